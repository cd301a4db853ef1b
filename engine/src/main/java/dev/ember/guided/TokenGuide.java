package dev.ember.guided;

import java.util.concurrent.CompletableFuture;

/**
 * One request's position in its constraint: the DFA state after the tokens generated so far. Advanced once per
 * appended token (preemption keeps the generated tokens, so it keeps the state too). The mask of the next state is
 * asked for ({@link #maskReady}) before the request is scheduled to sample, and built on the constraint cache's
 * background pool; the scheduler leaves the request out of steps until it is ready. Not thread-safe: the engine's
 * step-loop thread only.
 */
public final class TokenGuide {
    private final TokenIndex index;
    private int state;
    private boolean ended;
    private CompletableFuture<TokenMask> next; // the mask of state, once asked for

    TokenGuide(TokenIndex index) {
        this.index = index;
        this.state = index.start();
    }

    public TokenIndex index() {
        return index;
    }

    /**
     * Whether the mask of the tokens allowed next is built; the first call starts its build (on the background
     * pool, or now when the engine builds masks inline). Rethrows a build's failure.
     */
    public boolean maskReady() {
        CompletableFuture<TokenMask> f = requested();
        if (f.isDone()) {
            TokenIndex.joined(f);
            return true;
        }
        return false;
    }

    /** Completes when the next mask is built (for a step loop with nothing else to run). */
    public CompletableFuture<?> maskBuilt() {
        return requested();
    }

    private CompletableFuture<TokenMask> requested() {
        if (next == null) {
            next = index.requestMask(state);
        }
        return next;
    }

    /**
     * The tokens allowed next: the mask {@link #maskReady} saw built, else built now on this thread. After a token
     * the constraint did not allow (which a sampler honoring the masks never picks), the state is dead and only EOS
     * is allowed, so the row ends and reports the invalid output.
     */
    public TokenMask mask() {
        if (next != null && next.isDone()) {
            return TokenIndex.joined(next);
        }
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
        next = null;
    }

    /** Whether the output so far is a complete match of the constraint. */
    public boolean complete() {
        return state >= 0 && index.accepting(state);
    }
}
