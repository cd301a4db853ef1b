package dev.ember.template;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The whitelisted Python methods of str, dict and list that templates may call. */
final class Methods {
    private Methods() {
    }

    /** A method bound to its receiver, e.g. {@code message.content.startswith}. */
    static final class Bound implements PyCallable {
        private final Object self;
        private final String name;

        Bound(Object self, String name) {
            this.self = self;
            this.name = name;
        }

        @Override
        public Object call(Renderer renderer, List<Object> args, Map<String, Object> kwargs) {
            if (self instanceof String) {
                return stringMethod((String) self, name, args, kwargs, renderer.budget());
            }
            if (self instanceof Map) {
                return dictMethod((Map<?, ?>) self, name, args, kwargs);
            }
            return listMethod((List<?>) self, name, args, kwargs);
        }

        @Override
        public String describe() {
            return "built-in method " + name + " of " + PyOps.typeName(self) + " object";
        }
    }

    private static Object stringMethod(String s, String name, List<Object> args, Map<String, Object> kwargs, Budget budget) {
        String fn = "str." + name;
        Object[] a;
        switch (name) {
            case "startswith":
            case "endswith": {
                a = Args.bind(fn, args, kwargs, "prefix", Args.REQUIRED, "start", null, "end", null);
                String region = region(s, a[1], a[2]);
                List<?> options = a[0] instanceof PyTuple ? (List<?>) a[0] : java.util.Collections.singletonList(a[0]);
                for (Object o : options) {
                    String p = Args.string(fn, "prefix", o);
                    if (name.equals("startswith") ? region.startsWith(p) : region.endsWith(p)) {
                        return true;
                    }
                }
                return false;
            }
            case "split":
            case "rsplit": {
                a = Args.bind(fn, args, kwargs, "sep", null, "maxsplit", -1L);
                String sep = Args.optionalString(fn, "sep", a[0]);
                long max = Args.integer(fn, "maxsplit", a[1]);
                List<Object> parts = name.equals("split") ? PyStr.split(s, sep, max) : PyStr.rsplit(s, sep, max);
                budget.charge(parts.size());
                return parts;
            }
            case "splitlines":
                a = Args.bind(fn, args, kwargs, "keepends", false);
                // Python takes keepends as an integer (a bool is one): a string or None is a TypeError
                return PyStr.splitLines(s, Args.integer(fn, "keepends", a[0]) != 0);
            case "strip":
            case "lstrip":
            case "rstrip": {
                a = Args.bind(fn, args, kwargs, "chars", null);
                String chars = Args.optionalString(fn, "chars", a[0]);
                return name.equals("strip") ? PyStr.strip(s, chars)
                        : name.equals("lstrip") ? PyStr.lstrip(s, chars) : PyStr.rstrip(s, chars);
            }
            case "replace":
                a = Args.bind(fn, args, kwargs, "old", Args.REQUIRED, "new", Args.REQUIRED, "count", -1L);
                return PyStr.replace(s, Args.string(fn, "old", a[0]), Args.string(fn, "new", a[1]),
                        Args.integer(fn, "count", a[2]), budget);
            case "upper":
                Args.bind(fn, args, kwargs);
                return PyStr.upper(s);
            case "lower":
            case "casefold":
                Args.bind(fn, args, kwargs);
                return PyStr.lower(s);
            case "title":
                Args.bind(fn, args, kwargs);
                return PyStr.title(s);
            case "capitalize":
                Args.bind(fn, args, kwargs);
                return PyStr.capitalize(s);
            case "swapcase":
                Args.bind(fn, args, kwargs);
                return PyStr.swapCase(s);
            case "find":
            case "rfind":
            case "index":
            case "rindex":
            case "count": {
                a = Args.bind(fn, args, kwargs, "sub", Args.REQUIRED, "start", null, "end", null);
                String sub = Args.string(fn, "sub", a[0]);
                String region = region(s, a[1], a[2]);
                if (name.equals("count")) {
                    return PyStr.count(region, sub);
                }
                long at = PyStr.find(region, sub, name.startsWith("r"));
                if (at < 0) {
                    if (name.endsWith("index")) {
                        throw new TemplateException("ValueError: substring not found");
                    }
                    return -1L;
                }
                return at + regionStart(s, a[1]);
            }
            case "format":
                return StrFormat.format(s, args, kwargs, budget);
            case "join": {
                a = Args.bind(fn, args, kwargs, "iterable", Args.REQUIRED);
                List<Object> items = PyOps.iterate(a[0]);
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < items.size(); i++) {
                    Object item = items.get(i);
                    if (!(item instanceof String)) {
                        throw PyOps.typeError("sequence item " + i + ": expected str instance, " + PyOps.typeName(item) + " found");
                    }
                    if (i > 0) {
                        b.append(s);
                    }
                    b.append((String) item);
                    budget.checkSize(b.length());
                }
                budget.charge(items.size());
                return b.toString();
            }
            case "isdigit":
            case "isnumeric":
            case "isdecimal":
                Args.bind(fn, args, kwargs);
                return !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha":
                Args.bind(fn, args, kwargs);
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum":
                Args.bind(fn, args, kwargs);
                return !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace":
                Args.bind(fn, args, kwargs);
                return !s.isEmpty() && s.codePoints().allMatch(PyStr::isSpace);
            case "islower":
                Args.bind(fn, args, kwargs);
                return PyStr.isLower(s);
            case "isupper":
                Args.bind(fn, args, kwargs);
                return PyStr.isUpper(s);
            case "zfill": {
                a = Args.bind(fn, args, kwargs, "width", Args.REQUIRED);
                long width = Args.integer(fn, "width", a[0]);
                int pad = (int) Math.min(Math.max(0, width - PyStr.length(s)), Integer.MAX_VALUE);
                budget.checkSize(pad + (long) s.length());
                int sign = s.startsWith("-") || s.startsWith("+") ? 1 : 0;
                return s.substring(0, sign) + "0".repeat(pad) + s.substring(sign);
            }
            case "center":
            case "ljust":
            case "rjust": {
                a = Args.bind(fn, args, kwargs, "width", Args.REQUIRED, "fillchar", " ");
                long width = Args.integer(fn, "width", a[0]);
                String fill = Args.string(fn, "fillchar", a[1]);
                if (PyStr.length(fill) != 1) {
                    throw PyOps.typeError("The fill character must be exactly one character long");
                }
                budget.checkSize(width);
                int pad = (int) Math.max(0, width - PyStr.length(s));
                return name.equals("center") ? PyStr.center(s, (int) width, fill)
                        : name.equals("ljust") ? s + fill.repeat(pad) : fill.repeat(pad) + s;
            }
            case "removeprefix":
            case "removesuffix": {
                a = Args.bind(fn, args, kwargs, "affix", Args.REQUIRED);
                String affix = Args.string(fn, "affix", a[0]);
                if (name.equals("removeprefix")) {
                    return s.startsWith(affix) ? s.substring(affix.length()) : s;
                }
                return s.endsWith(affix) && !affix.isEmpty() ? s.substring(0, s.length() - affix.length()) : s;
            }
            case "partition":
            case "rpartition": {
                a = Args.bind(fn, args, kwargs, "sep", Args.REQUIRED);
                String sep = Args.string(fn, "sep", a[0]);
                if (sep.isEmpty()) {
                    throw new TemplateException("ValueError: empty separator");
                }
                int at = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
                if (at < 0) {
                    return name.equals("partition") ? PyTuple.of(s, "", "") : PyTuple.of("", "", s);
                }
                return PyTuple.of(s.substring(0, at), sep, s.substring(at + sep.length()));
            }
            default:
                throw new IllegalStateException("str method without implementation: " + name);
        }
    }

    /** The part of s that Python's optional start/end arguments select. */
    private static String region(String s, Object start, Object end) {
        if (start == null && end == null) {
            return s;
        }
        int n = PyStr.length(s);
        int from = regionStart(s, start);
        int to = end == null ? n : (int) clampIndex(Args.integer("str", "end", end), n);
        return from >= to ? "" : PyStr.codePointSubstring(s, from, to);
    }

    private static int regionStart(String s, Object start) {
        return start == null ? 0 : (int) clampIndex(Args.integer("str", "start", start), PyStr.length(s));
    }

    private static long clampIndex(long i, long n) {
        return i < 0 ? Math.max(0, i + n) : Math.min(i, n);
    }

    private static Object dictMethod(Map<?, ?> map, String name, List<Object> args, Map<String, Object> kwargs) {
        String fn = "dict." + name;
        switch (name) {
            case "items": {
                Args.bind(fn, args, kwargs);
                List<Object> out = new ArrayList<>(map.size());
                map.forEach((k, v) -> out.add(PyTuple.of(k, v)));
                return out;
            }
            case "keys":
                Args.bind(fn, args, kwargs);
                return new ArrayList<Object>(map.keySet());
            case "values":
                Args.bind(fn, args, kwargs);
                return new ArrayList<Object>(map.values());
            case "get": {
                Object[] a = Args.bind(fn, args, kwargs, "key", Args.REQUIRED, "default", null);
                if (map.containsKey(a[0])) {
                    return map.get(a[0]);
                }
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (PyOps.isNumber(a[0]) && PyOps.isNumber(e.getKey()) && PyOps.equal(e.getKey(), a[0])) {
                        return e.getValue();
                    }
                }
                return a[1];
            }
            case "copy":
                Args.bind(fn, args, kwargs);
                return new LinkedHashMap<Object, Object>(map);
            default:
                throw new IllegalStateException("dict method without implementation: " + name);
        }
    }

    private static Object listMethod(List<?> list, String name, List<Object> args, Map<String, Object> kwargs) {
        String fn = "list." + name;
        switch (name) {
            case "index": {
                Object[] a = Args.bind(fn, args, kwargs, "value", Args.REQUIRED);
                for (int i = 0; i < list.size(); i++) {
                    if (PyOps.equal(list.get(i), a[0])) {
                        return (long) i;
                    }
                }
                throw new TemplateException("ValueError: " + PyFormat.repr(a[0]) + " is not in list");
            }
            case "count": {
                Object[] a = Args.bind(fn, args, kwargs, "value", Args.REQUIRED);
                return list.stream().filter(o -> PyOps.equal(o, a[0])).count();
            }
            case "copy":
                Args.bind(fn, args, kwargs);
                return new ArrayList<Object>(list);
            default:
                throw new IllegalStateException("list method without implementation: " + name);
        }
    }
}
