#!/usr/bin/env python3
"""A stand-in for transformers' chat-template environment built from jinja2 alone, for checking test
templates where transformers is not installed. The fixtures under reference/ come from transformers itself."""
import json, sys
from datetime import datetime
import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env


def render(template, messages, agp, bos, eos, extra):
    kw = {}
    if bos is not None:
        kw["bos_token"] = bos
    if eos is not None:
        kw["eos_token"] = eos
    kw.update(extra)
    return make_env().from_string(template).render(messages=messages, tools=kw.pop("tools", None),
                                                   documents=kw.pop("documents", None),
                                                   add_generation_prompt=agp, **kw)


if __name__ == "__main__":
    template = open(sys.argv[1], newline="").read()
    cases = json.load(open(sys.argv[2]))["cases"]
    bos, eos = sys.argv[3] or None, sys.argv[4] or None
    for c in cases:
        try:
            print(repr(render(template, c["messages"], c.get("add_generation_prompt", True), bos, eos, c.get("extra", {}))))
        except Exception as e:
            print("ERROR", type(e).__name__, e)
        print("-----")
