#!/usr/bin/env python3
"""Renders snippets.json with transformers' own chat-template environment (the one apply_chat_template uses).

  python3 snippet_reference.py SNIPPETS.json OUT.json
Each result gets `text`, or `error` ("ExceptionType: message") and, for syntax errors, `lineno`."""
import json, sys


def environment_compiler():
    try:
        from transformers.utils.chat_template_utils import _compile_jinja_template
        import transformers
        return _compile_jinja_template, "transformers " + transformers.__version__
    except ImportError:
        sys.path.insert(0, __file__.rsplit("/", 1)[0])
        from local_jinja_env import make_env
        import jinja2
        return (lambda src: make_env().from_string(src)), "jinja2 " + jinja2.__version__ + " (stand-in)"


def main():
    compile_template, origin = environment_compiler()
    snippets = json.load(open(sys.argv[1]))["snippets"]
    out = []
    for sn in snippets:
        r = dict(sn)
        try:
            r["text"] = compile_template(sn["template"]).render(**sn["context"])
        except Exception as e:
            r["error"] = f"{type(e).__name__}: {e}"
            if getattr(e, "lineno", None) is not None:
                r["lineno"] = e.lineno
        out.append(r)
    json.dump({"origin": origin, "snippets": out}, open(sys.argv[2], "w"), ensure_ascii=False, indent=1)
    print(f"{origin}: wrote {len(out)} snippet renderings to {sys.argv[2]}")


if __name__ == "__main__":
    main()
