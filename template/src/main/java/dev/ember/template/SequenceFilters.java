package dev.ember.template;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The filters over sequences and mappings: map, select/reject(attr), sort, dictsort, unique, min/max. */
final class SequenceFilters {
    private SequenceFilters() {
    }


    /** jinja2's make_attrgetter: a dotted path of keys (or integer indices), with an optional default. */
    static Object attributeOf(Object item, Object attribute, Object defaultValue) {
        if (attribute == null) {
            return item;
        }
        Object v = item;
        String path = attribute instanceof String ? (String) attribute : PyFormat.str(attribute);
        for (String part : (PyOps.isIntegral(attribute) ? new String[] {path} : path.split("\\.", -1))) {
            Object key = !part.isEmpty() && part.chars().allMatch(Character::isDigit) ? (Object) Long.parseLong(part) : part;
            v = Attributes.getitem(v, key);
            if (v instanceof Undefined && defaultValue != null) {
                return defaultValue;
            }
        }
        return v;
    }

    private static Object sortKey(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof String ? PyStr.lower((String) v) : v;
    }

    static Object dictsort(String name, Object value, List<Object> args, Map<String, Object> kwargs, Budget budget) {
        Object[] a = Args.bind(name, args, kwargs, "case_sensitive", false, "by", "key", "reverse", false);
        if (!(value instanceof Map)) {
            PyOps.failIfUndefined(value);
            throw PyOps.typeError("dictsort expects a mapping, not " + PyOps.typeName(value));
        }
        String by = Args.string(name, "by", a[1]);
        if (!by.equals("key") && !by.equals("value")) {
            throw new TemplateException("FilterArgumentError: You can only sort by either \"key\" or \"value\"");
        }
        int pos = by.equals("key") ? 0 : 1;
        boolean caseSensitive = PyOps.truthy(a[0]);
        List<Object> items = new ArrayList<>();
        ((Map<?, ?>) value).forEach((k, v) -> items.add(PyTuple.of(k, v)));
        budget.charge(items.size());
        items.sort((x, y) -> PyOps.compare(sortKey(((PyTuple) x).get(pos), caseSensitive),
                sortKey(((PyTuple) y).get(pos), caseSensitive), "<"));
        if (PyOps.truthy(a[2])) {
            Collections.reverse(items);
        }
        return items;
    }

    static Object sort(String name, Object value, List<Object> args, Map<String, Object> kwargs, Budget budget) {
        Object[] a = Args.bind(name, args, kwargs, "reverse", false, "case_sensitive", false, "attribute", null);
        boolean caseSensitive = PyOps.truthy(a[1]);
        List<Object> items = new ArrayList<>(PyOps.iterate(value));
        budget.charge(items.size());
        // jinja2's key is a list with one entry per comma-separated attribute ('age,name'), and Python compares
        // lists entry by entry with == first: equal entries (two None, two missing attributes) never reach '<'
        List<Object> parts = a[2] instanceof String ? List.of((Object[]) ((String) a[2]).split(",", -1))
                : java.util.Collections.singletonList(a[2]);
        java.util.Comparator<Object> order = (x, y) -> {
            for (Object part : parts) {
                Object kx = sortKey(attributeOf(x, part, null), caseSensitive);
                Object ky = sortKey(attributeOf(y, part, null), caseSensitive);
                if (!PyOps.equal(kx, ky)) {
                    return PyOps.compare(kx, ky, "<");
                }
            }
            return 0;
        };
        // Python's reverse sort keeps equal items in their original order, unlike reversing a sorted list
        items.sort(PyOps.truthy(a[0]) ? order.reversed() : order);
        return items;
    }

    static Object unique(String name, Object value, List<Object> args, Map<String, Object> kwargs, Budget budget) {
        Object[] a = Args.bind(name, args, kwargs, "case_sensitive", false, "attribute", null);
        boolean caseSensitive = PyOps.truthy(a[0]);
        List<Object> seen = new ArrayList<>();
        List<Object> out = new ArrayList<>();
        for (Object item : PyOps.iterate(value)) {
            Object key = sortKey(attributeOf(item, a[1], null), caseSensitive);
            budget.charge(seen.size() + 1);
            if (seen.stream().noneMatch(s -> PyOps.equal(s, key))) {
                seen.add(key);
                out.add(item);
            }
        }
        return out;
    }

    static Object minMax(String name, Object value, List<Object> args, Map<String, Object> kwargs, Budget budget) {
        Object[] a = Args.bind(name, args, kwargs, "case_sensitive", false, "attribute", null);
        boolean caseSensitive = PyOps.truthy(a[0]);
        List<Object> items = PyOps.iterate(value);
        if (items.isEmpty()) {
            return Undefined.because("No aggregated item, sequence was empty.");
        }
        Object best = items.get(0);
        for (Object item : items) {
            budget.step();
            int c = PyOps.compare(sortKey(attributeOf(item, a[1], null), caseSensitive),
                    sortKey(attributeOf(best, a[1], null), caseSensitive), "<");
            if (name.equals("min") ? c < 0 : c > 0) {
                best = item;
            }
        }
        return best;
    }

    static Object map(Renderer r, Object value, List<Object> args, Map<String, Object> kwargs) {
        List<Object> out = new ArrayList<>();
        if (!PyOps.truthy(value)) {
            return out; // jinja2: "if value:" before anything else, so None, 0 and "" map to nothing
        }
        if (args.isEmpty() && kwargs.containsKey("attribute")) {
            Map<String, Object> rest = new LinkedHashMap<>(kwargs);
            Object attribute = rest.remove("attribute");
            Object defaultValue = rest.remove("default");
            if (!rest.isEmpty()) {
                throw new TemplateException("FilterArgumentError: Unexpected keyword argument "
                        + PyFormat.repr(rest.keySet().iterator().next()));
            }
            for (Object item : PyOps.iterate(value)) {
                r.budget().step();
                out.add(attributeOf(item, attribute, defaultValue));
            }
            return out;
        }
        if (args.isEmpty()) {
            throw new TemplateException("FilterArgumentError: map requires a filter argument");
        }
        String filter = Args.string("map", "filter", args.get(0));
        if (!Filters.exists(filter)) {
            throw new TemplateException("TemplateRuntimeError: No filter named '" + filter + "'");
        }
        List<Object> rest = args.subList(1, args.size());
        for (Object item : PyOps.iterate(value)) {
            r.budget().step();
            out.add(Filters.apply(r, filter, item, rest, kwargs));
        }
        return out;
    }

    static Object selectOrReject(Renderer r, String name, Object value, List<Object> args, Map<String, Object> kwargs) {
        if (!PyOps.truthy(value)) {
            return new ArrayList<>(); // jinja2: "if value:" before anything else, as in map
        }
        boolean byAttribute = name.endsWith("attr");
        boolean keep = name.startsWith("select");
        int off = byAttribute ? 1 : 0;
        if (byAttribute && args.isEmpty()) {
            throw new TemplateException("FilterArgumentError: Missing parameter for attribute name");
        }
        Object attribute = byAttribute ? args.get(0) : null;
        String test = args.size() > off ? Args.string(name, "test", args.get(off)) : null;
        if (test != null && !Tests.exists(test)) {
            throw new TemplateException("TemplateRuntimeError: No test named '" + test + "'");
        }
        List<Object> testArgs = args.size() > off + 1 ? args.subList(off + 1, args.size()) : List.of();
        List<Object> out = new ArrayList<>();
        for (Object item : PyOps.iterate(value)) {
            r.budget().step();
            Object subject = byAttribute ? attributeOf(item, attribute, null) : item;
            boolean passed = test == null ? PyOps.truthy(subject) : Tests.apply(test, subject, testArgs, kwargs);
            if (passed == keep) {
                out.add(item);
            }
        }
        return out;
    }
}
