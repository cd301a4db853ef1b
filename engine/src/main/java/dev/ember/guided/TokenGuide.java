package dev.ember.guided;

/**
 * One request's position in its constraint: the DFA state after the tokens generated so far. Advanced once per
 * appended token (preemption keeps the generated tokens, so it keeps the state too). Not thread-safe: the engine's
 * step-loop thread only.
 */
public final class TokenGuide {
    private final TokenIndex index;
    private int state;
    private boolean ended;

    TokenGuide(TokenIndex index) {
        this.index = index;
        this.state = index.start();
    }

    public TokenIndex index() {
        return index;
    }

    /**
     * The tokens allowed next. After a token the constraint did not allow (which a sampler honoring the masks
     * never picks), the state is dead and only EOS is allowed, so the row ends and reports the invalid output.
     */
    public TokenMask mask() {
        return index.mask(state);
    }

    /** Takes a generated token: an EOS id ends the output; any other token advances the state. */
    public void accept(int token) {
        if (ended) {
            return;
        }
        if (index.isEos(token)) {
            ended = true;
            return;
        }
        state = index.next(state, token);
    }

    /** Whether the output so far is a complete match of the constraint. */
    public boolean complete() {
        return state >= 0 && index.accepting(state);
    }
}
