package dev.ember.template;

import java.util.List;
import java.util.Map;

/** The {@code loop} variable of a for loop: index, index0, revindex, first, last, length, previtem, ... */
final class LoopState {
    private final List<Object> items;
    private final int depth;
    private int index;
    private Object lastChanged = Scope.MISSING;

    LoopState(List<Object> items, int depth) {
        this.items = items;
        this.depth = depth;
    }

    void moveTo(int index) {
        this.index = index;
    }

    int index1() {
        return index + 1;
    }

    int length() {
        return items.size();
    }

    int depth() {
        return depth;
    }

    Object attribute(String name) {
        int n = items.size();
        switch (name) {
            case "index": return (long) index + 1;
            case "index0": return (long) index;
            case "revindex": return (long) (n - index);
            case "revindex0": return (long) (n - index - 1);
            case "first": return index == 0;
            case "last": return index == n - 1;
            case "length": return (long) n;
            case "depth": return (long) depth;
            case "depth0": return (long) depth - 1;
            case "previtem": return index > 0 ? items.get(index - 1) : Undefined.because("there is no previous item");
            case "nextitem": return index < n - 1 ? items.get(index + 1) : Undefined.because("there is no next item");
            case "cycle": return new PyCallable() {
                @Override
                public Object call(Renderer renderer, List<Object> args, Map<String, Object> kwargs) {
                    if (args.isEmpty()) {
                        throw PyOps.typeError("loop.cycle() needs at least one value to cycle through");
                    }
                    return args.get(index % args.size());
                }

                @Override
                public String describe() {
                    return "method 'loop.cycle'";
                }
            };
            case "changed": return new PyCallable() {
                @Override
                public Object call(Renderer renderer, List<Object> args, Map<String, Object> kwargs) {
                    Object value = new PyTuple(args);
                    boolean changed = lastChanged == Scope.MISSING || !PyOps.equal(lastChanged, value);
                    lastChanged = value;
                    return changed;
                }

                @Override
                public String describe() {
                    return "method 'loop.changed'";
                }
            };
            default: return Undefined.missingAttribute(this, name);
        }
    }
}
