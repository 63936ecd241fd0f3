#!/usr/bin/env python3
"""Rewrites a csrc/cuda file for the emulator (usage: transform.py IN OUT).

`kernel<<<grid, block[, smem[, stream]]>>>(args);` becomes
`emu_launch([&]() { kernel(args); }, dim3(grid), dim3(block), "kernel");`, and
every `__shared__` declaration is followed by emu_shared_init() calls that
poison its variables once per block. Launches run synchronously.
"""
import re
import sys

LAUNCH = re.compile(r'([A-Za-z_][\w:]*(?:<[^;{}]*?>)?)\s*<<<(.*?)>>>\s*\((.*?)\);', re.S)
SHARED = re.compile(r'^(\s*)__shared__\s+(.*);\s*(//.*)?$')


def split_top(text):
    """Splits at the commas outside brackets."""
    out, depth, cur = [], 0, ''
    for ch in text:
        if ch in '([{':
            depth += 1
        elif ch in ')]}':
            depth -= 1
        if ch == ',' and depth == 0:
            out.append(cur.strip())
            cur = ''
        else:
            cur += ch
    out.append(cur.strip())
    return out


def launch(m):
    name, config, args = m.group(1), split_top(m.group(2)), m.group(3)
    return 'emu_launch([&]() { %s(%s); }, dim3(%s), dim3(%s), "%s");' % (
        name, args, config[0], config[1], ' '.join(name.split()))


def shared(line):
    m = SHARED.match(line)
    if not m or 'extern' in line:
        return line
    names = [re.search(r'([A-Za-z_]\w*)\s*(\[.*\])*$', d).group(1)
             for d in split_top(m.group(2))]
    inits = ' '.join('emu_shared_init(&%s, sizeof(%s));' % (n, n) for n in names)
    return '%s__shared__ %s; %s %s' % (m.group(1), m.group(2), inits, m.group(3) or '')


def main():
    src = open(sys.argv[1]).read()
    src = LAUNCH.sub(launch, src)
    src = '\n'.join(shared(line) for line in src.split('\n'))
    open(sys.argv[2], 'w').write(src)


if __name__ == '__main__':
    main()
