#!/usr/bin/env python3
"""Moves Java classes between packages and modules, rewriting packages and imports across every module.

Re-runnable: a move already done is skipped, and references to an old name are rewritten wherever they still
appear (say, in files a merged branch added or edited at the old place), so running it again on a merged tree
finishes the layout.

    python3 scripts/move-classes.py [MOVES_FILE] [--root DIR] [--dry-run]

MOVES_FILE (default scripts/layout-moves.txt) has one move a line; '#' starts a comment:

    dev.ember.engine.Request -> dev.ember.api            a class to another package (its FooTest.java beside it follows)
    dev.ember.template.* -> module:template              a whole package, main and test sources and resources, to a
                                                         module (same package; the module's pom is made if missing)
    dev.ember.LlmException -> module:template            one class to a module (same package)

What it rewrites, in every module:
  * the package line of each moved class;
  * every fully qualified mention of a moved class (imports, static imports, code, javadoc, docs, Maven and service
    files, scripts): dev.ember.engine.Request -> dev.ember.api.Request;
  * imports a file now needs because a class it used without one (same package before) lives elsewhere, for the
    classes that moved out and for the moved classes themselves (classes of their old package they used).
It uses `git mv` where the tree is a git work tree, so history follows the files.
"""
import os
import re
import subprocess
import sys

SOURCE_ROOTS = ('src/main/java', 'src/test/java')
RESOURCE_ROOTS = ('src/main/resources', 'src/test/resources')
TEXT_SUFFIXES = ('.java', '.md', '.xml', '.properties', '.sh', '.py', '.txt', '.conf', '.jinja', '.cfg', '.yml', '.yaml')
SKIP_DIRS = {'target', '.git', 'node_modules', '.device', '.idea'}
PACKAGE_LINE = re.compile(r'^(\s*package\s+)([\w.]+)(\s*;)', re.M)
IMPORT_LINE = re.compile(r'^\s*import\s+(static\s+)?([\w.]+)(\.\*)?\s*;', re.M)
COMMENT_OR_STRING = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])\'', re.S)
JAVADOC_REF = re.compile(r'\{@(?:link|linkplain)\s+([A-Z]\w*)|@(?:see|throws)\s+([A-Z]\w*)')

MODULE_POM = """<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>dev.ember</groupId>
    <artifactId>ember-parent</artifactId>
    <version>0.1.0-SNAPSHOT</version>
  </parent>
  <artifactId>ember-{name}</artifactId>
  <name>Ember {name}</name>
  <description>{description}</description>

  <properties>
    <!-- the README's `mvn -pl template,engine compile exec:java ...` runs the engine's main class: nothing here -->
    <exec.skip>true</exec.skip>
  </properties>

  <dependencies>
    <dependency>
      <groupId>com.fasterxml.jackson.core</groupId>
      <artifactId>jackson-databind</artifactId>
      <scope>test</scope>
    </dependency>
    <dependency>
      <groupId>org.junit.jupiter</groupId>
      <artifactId>junit-jupiter</artifactId>
      <scope>test</scope>
    </dependency>
  </dependencies>

  <build>
    <plugins>
      <plugin>
        <groupId>org.apache.maven.plugins</groupId>
        <artifactId>maven-surefire-plugin</artifactId>
      </plugin>
    </plugins>
  </build>
</project>
"""
MODULE_DESCRIPTIONS = {
    'template': 'The sandboxed Jinja-subset chat-template renderer (no other Ember code) and the exception family',
}


def fail(message):
    print('move-classes: ' + message, file=sys.stderr)
    sys.exit(1)


def parse_moves(path):
    moves = []
    for n, raw in enumerate(open(path, encoding='utf-8'), 1):
        line = raw.split('#', 1)[0].strip()
        if not line:
            continue
        if '->' not in line:
            fail('%s:%d: expected "SOURCE -> TARGET", got %r' % (path, n, raw.strip()))
        src, dst = (s.strip() for s in line.split('->', 1))
        moves.append((src, dst))
    return moves


def modules(root):
    """Directories holding a pom.xml with sources (the reactor's modules), plus the root."""
    out = []
    for entry in sorted(os.listdir(root)):
        d = os.path.join(root, entry)
        if entry not in SKIP_DIRS and os.path.isdir(os.path.join(d, 'src')):
            out.append(entry)
    return out


def java_files(root):
    """(module, source root, path relative to the source root) of every Java source."""
    for m in modules(root):
        for sr in SOURCE_ROOTS:
            base = os.path.join(root, m, sr)
            for dirpath, dirnames, filenames in os.walk(base):
                dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
                for f in filenames:
                    if f.endswith('.java'):
                        yield m, sr, os.path.relpath(os.path.join(dirpath, f), base)


def text_files(root):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith('.') or d in ('.ci', '.mvn')]
        for f in filenames:
            p = os.path.join(dirpath, f)
            if f.endswith(TEXT_SUFFIXES) or '/META-INF/services/' in p.replace(os.sep, '/') or f == 'run':
                yield p


def read(path):
    with open(path, encoding='utf-8') as fh:
        return fh.read()


def write(path, text, dry):
    if not dry:
        with open(path, 'w', encoding='utf-8') as fh:
            fh.write(text)


class Tree:
    def __init__(self, root, dry):
        self.root = root
        self.dry = dry
        self.git = subprocess.run(['git', '-C', root, 'rev-parse', '--is-inside-work-tree'],
                                  capture_output=True, text=True).stdout.strip() == 'true'

    def move(self, src, dst):
        if os.path.exists(dst):
            fail('cannot move %s: %s exists already (resolve by hand, then re-run)' % (src, dst))
        print('  %s -> %s' % (os.path.relpath(src, self.root), os.path.relpath(dst, self.root)))
        if self.dry:
            return
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        tracked = self.git and subprocess.run(['git', '-C', self.root, 'ls-files', '--error-unmatch', src],
                                              capture_output=True).returncode == 0
        if tracked:
            subprocess.run(['git', '-C', self.root, 'mv', src, dst], check=True)
        else:
            os.rename(src, dst)
        d = os.path.dirname(src)
        while d != self.root and os.path.isdir(d) and not os.listdir(d):
            os.rmdir(d)
            d = os.path.dirname(d)


def class_index(root):
    """package -> set of top-level class names, over every module's main and test sources."""
    index = {}
    for m, sr, rel in java_files(root):
        pkg = os.path.dirname(rel).replace(os.sep, '.')
        index.setdefault(pkg, set()).add(os.path.basename(rel)[:-5])
    return index


def plan(root, moves):
    """(file moves [(src, dst, old package, new package)], class renames {old FQN: new FQN}, module moves)."""
    files = list(java_files(root))
    file_moves, renames, module_dirs = [], {}, []
    for src, dst in moves:
        if dst.startswith('module:'):
            module = dst[len('module:'):]
            module_dirs.append(module)
            if src.endswith('.*'):
                pkg_path = src[:-2].replace('.', os.sep)
                for m in modules(root):
                    if m == module:
                        continue
                    for sub in SOURCE_ROOTS + RESOURCE_ROOTS:
                        d = os.path.join(root, m, sub, pkg_path)
                        if not os.path.isdir(d):
                            continue
                        for dirpath, _, filenames in os.walk(d):
                            for f in filenames:
                                p = os.path.join(dirpath, f)
                                rel = os.path.relpath(p, os.path.join(root, m))
                                file_moves.append((p, os.path.join(root, module, rel), None, None))
            else:
                pkg, cls = src.rsplit('.', 1)
                for m, sr, rel in files:
                    if m != module and rel == os.path.join(pkg.replace('.', os.sep), cls + '.java') \
                            or m != module and rel == os.path.join(pkg.replace('.', os.sep), cls + 'Test.java'):
                        file_moves.append((os.path.join(root, m, sr, rel), os.path.join(root, module, sr, rel), None, None))
            continue
        if '.' not in src or not src.rsplit('.', 1)[1][:1].isupper():
            fail('source %r is not a class name (package.Class)' % src)
        pkg, cls = src.rsplit('.', 1)
        renames[src] = dst + '.' + cls
        for m, sr, rel in files:
            for name in (cls, cls + 'Test'):
                if rel == os.path.join(pkg.replace('.', os.sep), name + '.java'):
                    new_rel = os.path.join(dst.replace('.', os.sep), name + '.java')
                    file_moves.append((os.path.join(root, m, sr, rel), os.path.join(root, m, sr, new_rel), pkg, dst))
                    if name != cls:
                        renames.setdefault(pkg + '.' + name, dst + '.' + name)
    return file_moves, renames, module_dirs


def code_of(text):
    return COMMENT_OR_STRING.sub(' ', text)


def add_imports(text, fqns):
    """Adds 'import X;' lines, each before the first plain import that sorts after it (so a sorted block stays
    sorted), else after the last plain import, else after the package line; no duplicates."""
    present = {m.group(2) for m in IMPORT_LINE.finditer(text) if not m.group(1)}
    for fqn in sorted(f for f in fqns if f not in present):
        line = 'import %s;\n' % fqn
        plain = [m for m in IMPORT_LINE.finditer(text) if not m.group(1) and not m.group(3)]
        later = [m for m in plain if m.group(2) > fqn]
        if later:
            at = text.index('import', later[0].start())
            text = text[:at] + line + text[at:]
        elif plain:
            at = text.index('\n', plain[-1].end() - 1) + 1
            text = text[:at] + line + text[at:]
        else:
            m = PACKAGE_LINE.search(text)
            text = text[:m.end()] + '\n\n' + line.rstrip('\n') + text[m.end():]
    return text


def rewrite_names(text, renames, pattern):
    return pattern.sub(lambda m: renames[m.group(0)], text)


def main(argv):
    args = [a for a in argv if not a.startswith('--')]
    dry = '--dry-run' in argv
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if '--root' in argv:
        root = os.path.abspath(argv[argv.index('--root') + 1])
        args = [a for a in args if os.path.abspath(a) != root]
    moves_file = args[0] if args else os.path.join(root, 'scripts', 'layout-moves.txt')
    moves = parse_moves(moves_file)
    tree = Tree(root, dry)

    before = class_index(root)
    old_package_of = {}  # new file path -> old package (for the moved files)
    file_moves, renames, module_dirs = plan(root, moves)

    if dry:
        for src, dst, _, _ in file_moves:
            print('  would move %s -> %s' % (os.path.relpath(src, root), os.path.relpath(dst, root)))
        for old, new in sorted(renames.items()):
            print('  would rename %s -> %s' % (old, new))
        return 0
    for module in module_dirs:
        ensure_module(root, module, dry)

    print('moving %d file(s)' % len(file_moves))
    for src, dst, old_pkg, new_pkg in file_moves:
        tree.move(src, dst)
        if old_pkg is not None and src.endswith('.java'):
            old_package_of[dst] = (old_pkg, new_pkg)

    # package lines of the classes that changed package
    for path, (old_pkg, new_pkg) in old_package_of.items():
        text = read(path)
        text = PACKAGE_LINE.sub(lambda m: m.group(1) + new_pkg + m.group(3) if m.group(2) == old_pkg else m.group(0),
                                text, count=1)
        write(path, text, dry)

    # fully qualified mentions, everywhere
    changed = 0
    if renames:
        pattern = re.compile(r'(?<![\w.])(?:' + '|'.join(re.escape(k) for k in sorted(renames, key=len, reverse=True))
                             + r')(?![\w])')
        keep = {os.path.abspath(moves_file), os.path.abspath(__file__)}  # the old names must stay in the move list
        for path in text_files(root):
            if os.path.abspath(path) in keep:
                continue
            try:
                text = read(path)
            except (UnicodeDecodeError, OSError):
                continue
            new = rewrite_names(text, renames, pattern)
            if new != text:
                changed += 1
                write(path, new, dry)
    print('rewrote qualified names in %d file(s)' % changed)

    # imports for what used to be reachable without one
    moved_out = {}  # old package -> {class: new FQN}
    for old, new in renames.items():
        pkg, cls = old.rsplit('.', 1)
        moved_out.setdefault(pkg, {})[cls] = new
    after = class_index(root)
    added = 0
    for m, sr, rel in list(java_files(root)):
        path = os.path.join(root, m, sr, rel)
        pkg = os.path.dirname(rel).replace(os.sep, '.')
        old_pkg = old_package_of.get(path, (pkg, pkg))[0]
        needed = set()
        # classes of the old package that are now elsewhere
        for cls, new in moved_out.get(old_pkg, {}).items():
            if new.rsplit('.', 1)[0] != pkg:
                needed.add((cls, new))
        # a moved class: the classes it left behind in its old package
        if old_pkg != pkg:
            for cls in before.get(old_pkg, ()):
                if cls not in moved_out.get(old_pkg, {}) and cls in after.get(old_pkg, ()):
                    needed.add((cls, old_pkg + '.' + cls))
        if not needed:
            continue
        text = read(path)
        code = code_of(text)
        doc_refs = {a or b for a, b in JAVADOC_REF.findall(text)}
        imported = {m.group(2).rsplit('.', 1)[1] for m in IMPORT_LINE.finditer(text) if not m.group(1)}
        own = os.path.basename(rel)[:-5]
        want = set()
        for cls, fqn in needed:
            if cls == own or cls in imported:
                continue
            if re.search(r'(?<![\w.])' + re.escape(cls) + r'\b', code) or cls in doc_refs:
                want.add(fqn)
        if want:
            added += 1
            write(path, add_imports(text, want), dry)
    print('added imports in %d file(s)' % added)
    return 0


def ensure_module(root, module, dry):
    """The module's pom (made if missing), the root pom's <module> entry before the first module, and a
    dependency of every module whose sources import the module's packages (here: engine on the new module)."""
    pom = os.path.join(root, module, 'pom.xml')
    if not os.path.exists(pom):
        print('  creating %s/pom.xml' % module)
        if not dry:
            os.makedirs(os.path.dirname(pom), exist_ok=True)
            write(pom, MODULE_POM.replace('{name}', module)
                  .replace('{description}', MODULE_DESCRIPTIONS.get(module, 'Ember ' + module)), dry)
    root_pom = os.path.join(root, 'pom.xml')
    text = read(root_pom)
    if '<module>%s</module>' % module not in text:
        text = re.sub(r'(\n(\s*)<module>)', r'\n\2<module>%s</module>\1' % module, text, count=1)
        write(root_pom, text, dry)
    engine_pom = os.path.join(root, 'engine', 'pom.xml')
    text = read(engine_pom)
    if '<artifactId>ember-%s</artifactId>' % module not in text:
        dep = ('    <dependency>\n      <groupId>dev.ember</groupId>\n      <artifactId>ember-%s</artifactId>\n'
               '      <version>${project.version}</version>\n    </dependency>\n' % module)
        text = text.replace('<dependencies>\n', '<dependencies>\n' + dep, 1)
        write(engine_pom, text, dry)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
