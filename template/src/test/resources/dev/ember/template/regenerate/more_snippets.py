#!/usr/bin/env python3
"""More single-feature snippets, plus seeded random expressions, rendered by jinja2 configured as transformers
configures it (local_jinja_env.py; the transformers run of snippets.json matched it on every snippet).

  python3 more_snippets.py OUT.json"""
import json, random, sys
from local_jinja_env import make_env
import jinja2

S = []


def s(template, **ctx):
    S.append({"template": template, "context": ctx})


# macros, call blocks, filter blocks, with, block set
s("{% macro tag(name, attrs={}, body='') %}<{{ name }}{% for k, v in attrs | dictsort %} {{ k }}=\"{{ v }}\"{% endfor %}>{{ body }}</{{ name }}>{% endmacro %}{{ tag('a', {'href': 'x', 'id': 1}, 'link') }}{{ tag('br') }}")
s("{% macro list(items) %}{% for i in items %}{{ caller(i) }}{% endfor %}{% endmacro %}{% call(item) list([1, 2]) %}[{{ item * 10 }}]{% endcall %}")
s("{% set greeting = 'hi' %}{% macro g() %}{{ greeting }}{% endmacro %}{% set greeting = 'hello' %}{{ g() }}")
s("{% macro m(x) %}{{ x }}{% endmacro %}{% for i in [1, 2] %}{{ m(i) }}{% endfor %}")
s("{% filter trim | upper %}   padded text   {% endfilter %}|")
s("{% set s | upper %}  abc {{ 1 }}{% endset %}[{{ s }}]")
s("{% with %}{% set inner = 1 %}{{ inner }}{% endwith %}[{{ inner }}]")
s("{% with x = 1 %}{% with y = x + 1 %}{{ x }}{{ y }}{% endwith %}{% endwith %}")
# loops
s("{% for a, b in [('x', 1), ('y', 2)] %}{{ a }}{{ b }}{% endfor %}")
s("{% for x in [1, 1, 2, 3, 3] %}{% if loop.changed(x) %}{{ x }}{% endif %}{% endfor %}")
s("{% for i in range(3) %}{% for j in range(2) %}{{ loop.index }}{{ loop.length }}{% endfor %}{{ loop.index }}|{% endfor %}")
s("{% for x in items %}{{ x }}{% endfor %}", items={"b": 1, "a": 2})
s("{% for c in 'a😀b' %}[{{ c }}]{% endfor %}")
s("{% for x in [1, 2] %}{{ x }}{% set x = 'shadow' %}{{ x }}{% endfor %}")
s("{% set ns = namespace(i=0) %}{% for m in messages %}{% if m.role == 'user' %}{% set ns.i = loop.index0 %}{% endif %}{% endfor %}{{ ns.i }}",
  messages=[{"role": "user"}, {"role": "assistant"}, {"role": "user"}, {"role": "assistant"}])
s("{% for m in messages | selectattr('role', 'equalto', 'user') %}{{ m.content }}{% endfor %}",
  messages=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}, {"role": "user", "content": "c"}])
s("{% for m in messages | rejectattr('role', 'in', ['system', 'tool']) %}{{ m.role[0] }}{% endfor %}",
  messages=[{"role": "system"}, {"role": "user"}, {"role": "tool"}, {"role": "assistant"}])
# strings and formatting
s("{{ '%5.2f|%-6s|%03d|%x|%r|%s%%' % (3.14159, 'ab', 7, 255, 'q', 5) }}")
s("{{ '%(a)s-%(b)d' % {'a': 'x', 'b': 2} }} {{ '%s' % 'one' }} {{ '%s' % (none,) }}")
s("{{ '{:>6}|{:<4}|{:^7}|{:06.2f}|{:,}|{:.1%}|{!r}'.format('ab', 'c', 'mid', 3.14159, 1234567, 0.256, 'q') }}")
s("{{ '{0[0]}-{1.real}'.format([7], {'real': 'r'}) }}")
s("{{ 'x'.join(['a', 'b', 'c']) }} {{ ', '.join(items | map('string')) }}", items=[1, 2.5, None])
s("{{ 'ß'.upper() }} {{ 'İ'.lower() | length }} {{ 'ǆemal'.title() }} {{ 'hello wORLD'.capitalize() }} {{ 'ÉCOLE' | lower }}")
s("{{ 'a\\tb\\nc'.split() }} {{ 'a\\u00a0b\\u3000c'.split() }} {{ 'l1\\r\\nl2\\rl3\\x0bl4'.splitlines() }}")
s("{{ '  x  '.center(9, '*') }} {{ 'ab'.ljust(4, '.') }} {{ 'ab'.rjust(4) }} {{ '-5'.zfill(4) }} {{ 'a.b.c'.partition('.') }} {{ 'a.b.c'.rpartition('.') }}")
s("{{ 'prefix-body'.removeprefix('prefix-') }} {{ 'body.txt'.removesuffix('.txt') }} {{ 'abc'.startswith('b', 1) }} {{ 'abcabc'.find('c', 3) }} {{ 'abcabc'.rfind('a') }}")
s("{{ 'Hello World' | wordcount }} {{ 'a-b c(d' | title }} {{ \"o'neil mc-d\" | title }} {{ 'x' | center(4) }}|")
s("{{ 'abc' ~ 1 ~ 2.50 ~ none ~ [1] ~ {'a': none} }}")
s("{{ 'line one\\nline two' | indent(4, first=true) }}")
s("{{ 'hello world, this is long' | truncate(12) }}|{{ 'hello world, this is long' | truncate(12, true) }}|{{ 'hello world, this is long' | truncate(12, false, '…', 0) }}")
# numbers
s("{{ 1e22 }} {{ 1e21 }} {{ 1e-7 }} {{ 123456789012345678.0 }} {{ 5e-324 }} {{ 1.7976931348623157e308 }} {{ 0.1 * 3 }} {{ 1 / 7 }} {{ 100.0 / 3 }} {{ 2.5e15 }} {{ 9007199254740993.0 }}")
s("{{ 3.0 | round }} {{ 0.5 | round }} {{ 1.5 | round }} {{ -0.5 | round }} {{ 1.005 | round(2) }} {{ 12345 | round(-1) }} {{ 1.25 | round(1) }} {{ 1.35 | round(1) }}")
s("{{ 10 % 3 }} {{ -10 % 3 }} {{ 10 % -3 }} {{ 5.5 % 2 }} {{ -5.5 % 2 }} {{ 2 ** 62 }} {{ (-2) ** 3 }} {{ 4 ** 0.5 }} {{ 10 // 3.0 }} {{ -10 // 3 }}")
s("{{ '42' | int }} {{ ' 42 ' | int }} {{ '-1_000' | int }} {{ '0b101' | int(base=2) }} {{ '12' | int(base=8) }} {{ 'ff' | int(base=16) }} {{ '1e3' | int }} {{ '1e3' | float }} {{ 'inf' | float }} {{ '' | float(-1) }} {{ none | int(5) }}")
s("{{ [1, 2, 3] | sum }} {{ [0.1, 0.2] | sum }} {{ [[1], [2]] | sum(start=[]) }} {{ [3, 1, 2] | max }} {{ ['aa', 'B'] | max }} {{ ['aa', 'B'] | max(case_sensitive=true) }} {{ [{'n': 2}, {'n': 5}] | max(attribute='n') }}")
# comparisons, tests, membership
s("{{ 1 == 1.0 == true }} {{ [1, 2] == [1, 2] }} {{ (1, 2) == [1, 2] }} {{ {'a': 1} == {'a': 1} }} {{ 'a' < 'b' < 'c' }} {{ 2 > 1 >= 1 }} {{ none is none and 1 is not none }}")
s("{{ 1 in [1.0] }} {{ 'ab' in ['ab'] }} {{ [1] in [[1]] }} {{ 'x' in {'x': 0} }} {{ 'b' in 'abc' and 'd' not in 'abc' }}")
s("{{ x is sameas none }} {{ x is sameas false }} {{ 1 is sameas 1 }} {{ true is number }} {{ 'a' is iterable }} {{ 3 is ge 2 }} {{ 'A' is upper }} {{ 'aB' is lower }}", x=None)
s("{{ [1, 2, 3, 4, 5] | select('gt', 2) | select('odd') | list }} {{ ['a', 'B', 'c'] | select('upper') | list }} {{ [none, 1, none] | reject('none') | list }} {{ [1, 'a', 2.5] | select('number') | list }}")
s("{{ users | selectattr('age', 'ge', 18) | map(attribute='name') | join(',') }} {{ users | map(attribute='tags.0', default='-') | list }}",
  users=[{"name": "a", "age": 20, "tags": ["x"]}, {"name": "b", "age": 10, "tags": []}, {"name": "c", "age": 18, "tags": ["z"]}])
s("{{ users | sort(attribute='age', reverse=true) | map(attribute='name') | join }} {{ users | sort(attribute='name') | map(attribute='name') | join }} {{ users | unique(attribute='age') | list | length }}",
  users=[{"name": "b", "age": 2}, {"name": "a", "age": 2}, {"name": "C", "age": 1}])
s("{{ [3, 1, 2] | sort(reverse=true) }} {{ ['b', 'A', 'a', 'B'] | sort }} {{ ['b', 'A', 'a', 'B'] | unique | list }} {{ [[2, 'b'], [1, 'a'], [2, 'a']] | sort }}")
# dicts and json
s("{{ d | tojson }} {{ d | tojson(indent=2) }}", d={"text": "tab\there \"q\" \\ \u0001 \u007f é 😀", "n": [1, 2.0, -0.0, 1e20], "nested": {"empty": [], "e2": {}}})
s("{{ d | tojson(separators=(',', ':'), sort_keys=true) }} {{ d | tojson(indent='\\t') }}", d={"b": [1, {"c": None}], "a": True})
s("{{ {'a': 1, 'b': 2} | dictsort(by='value', reverse=true) }} {{ {'B': 1, 'a': 2} | dictsort(case_sensitive=true) }} {{ {1: 'x', 2: 'y'} | tojson }}")
s("{{ dict(a=1) | items | list }} {{ {'a': [1, 2]}['a'][1] }} {{ {'a': {'b': 'c'}}.a.b }} {{ {'k': 1}.get('k') }} {{ {'k': none}.get('k', 2) }}")
s("{{ tool.function.parameters.properties | items | map('first') | join(',') }} {{ tool.function.parameters.required | join }} {{ tool['function']['name'] }}",
  tool={"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "unit": {}}, "required": ["city"]}}})
s("{% set ns = namespace(a=1) %}{{ ns.a }}{% set ns.a = ns.a + 1 %}{{ ns.a }}{{ ns.missing is defined }}")
# conditionals and undefined corner cases
s("{{ 'a' if x else 'b' }}{{ 'c' if y is defined and y else 'd' }}{{ x and 'e' or 'f' }}{{ (x or y) | default('g') }}", x=0)
s("{{ messages[-1].role if messages else 'none' }} {{ (messages | last).content }} {{ messages | map(attribute='role') | list }}",
  messages=[{"role": "user", "content": "u"}, {"role": "assistant", "content": "a"}])
s("{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set sys = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% endif %}{{ sys | default('none') }} {{ loop_messages | length }}",
  messages=[{"role": "system", "content": "S"}, {"role": "user", "content": "u"}])
s("{{ x.y is defined }}", x={"z": 1})
s("{{ (x | default({})).y | default('dflt') }}")
s("{{ x.y.z }}", x={"y": None})
s("{{ none.attr }}")
s("{{ 5 + none }}")
s("{{ [] | first | default('empty') }} {{ [] | last | default('empty') }} {{ [] | max | default('m') }}")
s("{{ undefined_var | upper }}|{{ undefined_var | tojson if false }}|{{ undefined_var | string }}|{{ undefined_var | int }}")

# seeded random arithmetic and string expressions
rnd = random.Random(20261128)
atoms = ["0", "1", "2", "3", "7", "-4", "2.5", "0.1", "-1.5", "1e3", "true", "false", "none", "'ab'", "'x'", "''", "[1, 2]", "[]", "(1,)", "'3'"]
ops = ["+", "-", "*", "/", "//", "%", "**", "~", "==", "!=", "<", ">=", "and", "or", " in "]
for i in range(150):
    depth = rnd.randint(1, 3)
    expr = rnd.choice(atoms)
    for _ in range(depth):
        op = rnd.choice(ops)
        right = rnd.choice(atoms)
        if op == "**" and right in ("1e3",):
            right = "2"
        expr = f"({expr} {op.strip() if op != ' in ' else 'in'} {right})"
    if rnd.random() < 0.3:
        expr = f"{expr} | {rnd.choice(['string', 'length', 'abs', 'int', 'float', 'list', 'tojson', 'round', 'first', 'reverse'])}"
    s("{{ " + expr + " }}")


if __name__ == "__main__":
    env = make_env()
    out = []
    for sn in S:
        r = dict(sn)
        try:
            r["text"] = env.from_string(sn["template"]).render(**sn["context"])
        except Exception as e:
            r["error"] = f"{type(e).__name__}: {e}"
            if getattr(e, "lineno", None) is not None:
                r["lineno"] = e.lineno
        out.append(r)
    origin = "jinja2 " + jinja2.__version__ + " configured as transformers configures it"
    json.dump({"origin": origin, "snippets": out}, open(sys.argv[1], "w"), ensure_ascii=False, indent=1)
    print(f"{origin}: wrote {len(out)} snippet renderings to {sys.argv[1]}")
