#!/usr/bin/env python3
"""Lays out the folder the GPU host renders from (tokenizer dirs, conversations, scripts).

  python3 build_device_folder.py QWEN_TOKENIZER_DIR CHAT_REFERENCE_PY DEST
Every tokenizer dir but qwen3 lacks tokenizer.json; run.sh copies qwen3's in (it is 11 MB)."""
import json, os, shutil, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
# template name -> bos_token and eos_token written into its tokenizer_config.json (the Java test reads them too)
TOKENS = {name: (t["bos_token"], t["eos_token"]) for name, t in
          json.load(open(os.path.join(ROOT, "templates", "special_tokens.json"))).items()}


def main():
    qwen, chat_reference, dest = sys.argv[1:4]
    os.makedirs(dest, exist_ok=True)
    base = json.load(open(os.path.join(qwen, "tokenizer_config.json"), encoding="utf-8"))
    for name, (bos, eos) in TOKENS.items():
        d = os.path.join(dest, "tok_" + name)
        os.makedirs(d, exist_ok=True)
        config = dict(base)
        with open(os.path.join(ROOT, "templates", name + ".jinja"), encoding="utf-8", newline="") as f:
            config["chat_template"] = f.read()
        config["bos_token"], config["eos_token"] = bos, eos
        json.dump(config, open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8"), ensure_ascii=False, indent=2)
        shutil.copy(os.path.join(ROOT, "conversations", name + ".json"), os.path.join(dest, "conv_" + name + ".json"))
    shutil.copy(os.path.join(qwen, "tokenizer.json"), os.path.join(dest, "tok_qwen3", "tokenizer.json"))
    shutil.copy(chat_reference, dest)
    for f in ("snippet_reference.py", "local_jinja_env.py"):
        shutil.copy(os.path.join(HERE, f), dest)
    shutil.copy(os.path.join(ROOT, "conversations", "snippets.json"), dest)
    names = " ".join(TOKENS)
    with open(os.path.join(dest, "run.sh"), "w") as f:
        f.write(f"""#!/bin/bash
# Renders every test template and the snippets with transformers; results go to $1.
cd "$(dirname "$0")"
python3 -c 'import transformers, jinja2; print("transformers", transformers.__version__, "jinja2", jinja2.__version__)'
for n in {names}; do
  [ -f tok_$n/tokenizer.json ] || cp tok_qwen3/tokenizer.json tok_$n/
  python3 chat_reference.py tok_$n conv_$n.json "$1/$n.json" || echo "FAILED $n"
done
python3 snippet_reference.py snippets.json "$1/snippets.json" || echo "FAILED snippets"
""")
    os.chmod(os.path.join(dest, "run.sh"), 0o755)
    print("laid out", dest)


if __name__ == "__main__":
    main()
