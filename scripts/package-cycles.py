#!/usr/bin/env python3
"""Finds package cycles among the project's Java packages (dev.ember.*), across every module.

A package depends on another when one of its main (non-test) source files imports a class of it or names one
fully qualified (dev.ember.x.Y). Packages in a cycle are the strongly connected components with more than one
package; a nested package (dev.ember.backend.cpu) is a package of its own. Prints each cycle with the files that
close it and exits 1 when there is one, 0 otherwise.

    python3 scripts/package-cycles.py [ROOT]        # ROOT defaults to the repository root

Classes listed in scripts/package-cycles-allow.txt (entry points whose names are public API) are left out: their
imports do not count.
"""
import os
import re
import sys
from collections import defaultdict

PACKAGE = re.compile(r'^\s*package\s+([\w.]+)\s*;', re.M)
IMPORT = re.compile(r'^\s*import\s+(?:static\s+)?(dev\.ember(?:\.[a-z_]\w*)*)\.([A-Z]\w*)', re.M)
QUALIFIED = re.compile(r'\b(dev\.ember(?:\.[a-z_]\w*)*)\.([A-Z]\w*)')
COMMENT = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\])*"', re.S)


def main_sources(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ('target', '.git', 'node_modules')]
        if os.sep + os.path.join('src', 'main', 'java') not in dirpath + os.sep:
            continue
        for f in filenames:
            if f.endswith('.java'):
                yield os.path.join(dirpath, f)


def allowed(root):
    path = os.path.join(root, 'scripts', 'package-cycles-allow.txt')
    if not os.path.exists(path):
        return set()
    return {line.split('#', 1)[0].strip() for line in open(path, encoding='utf-8')} - {''}


def graph(root):
    edges = defaultdict(lambda: defaultdict(set))  # package -> package -> files
    packages = set()
    skip = allowed(root)
    for path in main_sources(root):
        text = open(path, encoding='utf-8').read()
        m = PACKAGE.search(text)
        if not m:
            continue
        pkg = m.group(1)
        packages.add(pkg)
        if pkg + '.' + os.path.basename(path)[:-5] in skip:
            continue
        code = COMMENT.sub(' ', text)  # javadoc links and strings are not dependencies
        targets = {g.group(1) for g in IMPORT.finditer(text)} | {g.group(1) for g in QUALIFIED.finditer(code)}
        for t in targets:
            if t != pkg:
                edges[pkg][t].add(os.path.relpath(path, root))
    return packages, edges


def cycles(packages, edges):
    """Tarjan's strongly connected components, those of more than one package."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in packages:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for p in sorted(packages):
        if p not in index:
            visit(p)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    packages, edges = graph(root)
    found = cycles(packages, edges)
    for comp in found:
        print('package cycle: ' + ' <-> '.join(comp))
        members = set(comp)
        for a in comp:
            for b in sorted(edges[a]):
                if b in members:
                    files = sorted(edges[a][b])
                    print('  %s -> %s: %s%s' % (a, b, ', '.join(files[:3]), ' (+%d)' % (len(files) - 3) if len(files) > 3 else ''))
    if found:
        return 1
    print('no package cycles among %d packages' % len(packages))
    return 0


if __name__ == '__main__':
    sys.exit(main())
