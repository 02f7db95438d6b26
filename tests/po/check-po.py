#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks the translations in po/: complete, valid and in sync.

For each language of po/LINGUAS:
  - `msgfmt --check --statistics` accepts its .po file (format strings
    match their msgid, the header is valid), and reports no fuzzy and no
    untranslated message;
  - the Plural-Forms header is the language's;
  - its messages are exactly those that xgettext extracts today from the
    files of po/POTFILES.in, with the keywords of meson's 'glib' preset
    (the ones `ninja pmt-1.0-pot` uses): a new string without its
    translation fails, and so does a translation of a string that is gone
    (`ninja -C BUILD pmt-1.0-update-po` brings the .po files up to date).

Usage: check-po.py SOURCE_ROOT XGETTEXT MSGFMT.  Prints TAP: a self-test
that plants each fault in a copy of the first .po file, then one line per
check and language."""

import ast
import os
import re
import shutil
import subprocess
import sys
import tempfile

# meson 1.0.1, mesonbuild/modules/i18n.py, PRESET_ARGS['glib']: the
# keywords and flags that decide what is extracted.
XGETTEXT_ARGS = [
    '--from-code=UTF-8',
    '--add-comments',
    '--keyword=_',
    '--keyword=N_',
    '--keyword=C_:1c,2',
    '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2',
    '--keyword=g_dngettext:2,3',
    '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format',
    '--flag=C_:2:pass-c-format',
    '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format',
    '--flag=g_strdup_printf:1:c-format',
    '--flag=g_string_printf:2:c-format',
    '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format',
    '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format',
    '--flag=g_log:3:c-format',
    '--flag=g_print:1:c-format',
    '--flag=g_printerr:1:c-format',
    '--flag=g_printf:1:c-format',
    '--flag=g_fprintf:2:c-format',
    '--flag=g_sprintf:2:c-format',
    '--flag=g_snprintf:3:c-format',
]

PLURAL_FORMS = {
    'de': 'nplurals=2; plural=(n != 1);',
}

STATISTICS = re.compile(r'(\d+) (translated|fuzzy|untranslated) (?:message|translation)')
KEYWORD = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?) (".*")$')


def read_catalog(path):
    """Returns the set of (msgctxt, msgid, msgid_plural) of the live (not
    obsolete) entries of a .po or .pot file, and its header."""
    entries, header = set(), ''
    parsed = []   # [{keyword: text}], one per entry
    current = None

    with open(path, encoding='utf-8') as catalog:
        for line in catalog:
            line = line.strip()
            match = KEYWORD.match(line)
            if match:
                current = match.group(1)
                if current in ('msgctxt', 'msgid') and (not parsed or 'msgstr' in ''.join(parsed[-1])
                                                        or current in parsed[-1]):
                    parsed.append({})
                parsed[-1][current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current is not None:
                parsed[-1][current] += ast.literal_eval(line)
            elif line.startswith('#') or not line:
                current = None

    for fields in parsed:
        key = (fields.get('msgctxt'), fields['msgid'], fields.get('msgid_plural'))
        if key == (None, '', None):
            header = fields.get('msgstr', '')
        else:
            entries.add(key)
    return entries, header


def extract(root, xgettext, workdir):
    """Runs xgettext as the pot target does; returns the pot's path."""
    pot = os.path.join(workdir, 'extracted.pot')
    subprocess.run([xgettext, '--package-name=pmt-1.0', '--directory=' + root,
                    '--files-from=' + os.path.join(root, 'po', 'POTFILES.in'),
                    '--output=' + pot] + XGETTEXT_ARGS, check=True)
    return pot


def check_msgfmt(msgfmt, po):
    """Returns the faults msgfmt reports, or an empty list."""
    run = subprocess.run([msgfmt, '--check', '--statistics', '-o', os.devnull, po],
                         capture_output=True, text=True)
    faults = [] if run.returncode == 0 else ['msgfmt --check: ' + run.stderr.strip()]
    counts = {kind: int(n) for n, kind in STATISTICS.findall(run.stderr)}
    for kind in ('fuzzy', 'untranslated'):
        if counts.get(kind, 0):
            faults.append('%d %s messages (%s)' % (counts[kind], kind, run.stderr.strip()))
    if not counts.get('translated'):
        faults.append('no translated message (%s)' % run.stderr.strip())
    return faults


def check_plural_forms(lang, header):
    match = re.search(r'^Plural-Forms:\s*(.*?)\s*$', header, re.M)
    found = match.group(1) if match else None
    wanted = PLURAL_FORMS.get(lang)
    if found is None:
        return ['no Plural-Forms header']
    if wanted is not None and found != wanted:
        return ['Plural-Forms is "%s", not "%s"' % (found, wanted)]
    return []


def describe(key):
    context, msgid, plural = key
    text = repr(msgid)
    if plural is not None:
        text += ' (plural %r)' % plural
    if context is not None:
        text = '%r | %s' % (context, text)
    return text


def check_sync(extracted, po):
    wanted, _ = read_catalog(extracted)
    have, _ = read_catalog(po)
    faults = ['not translated in %s: %s' % (os.path.basename(po), describe(key))
              for key in sorted(set(wanted) - set(have), key=str)]
    faults += ['in %s but in no source any more: %s' % (os.path.basename(po), describe(key))
               for key in sorted(set(have) - set(wanted), key=str)]
    return faults


def checks(lang, po, extracted, msgfmt):
    _, header = read_catalog(po)
    return [('%s.po: msgfmt --check, nothing fuzzy or untranslated' % lang,
             check_msgfmt(msgfmt, po)),
            ('%s.po: Plural-Forms' % lang, check_plural_forms(lang, header)),
            ('%s.po: in sync with the sources' % lang, check_sync(extracted, po))]


def plant(po, workdir, name, edit):
    """Writes a copy of @po with @edit applied to its text."""
    with open(po, encoding='utf-8') as source:
        text = source.read()
    planted = os.path.join(workdir, name)
    with open(planted, 'w', encoding='utf-8') as out:
        out.write(edit(text))
    return planted


def self_test(lang, po, extracted, msgfmt, workdir):
    """Each fault, planted in a copy, must fail its check and only it."""
    def drop_last_entry(text):
        blocks = text.rstrip('\n').split('\n\n')
        live = [i for i, block in enumerate(blocks) if re.search(r'^msgid "', block, re.M)]
        del blocks[live[-1]]
        return '\n\n'.join(blocks) + '\n'

    def fuzzy_first(text):
        return re.sub(r'\nmsgid "(?=[^"\n])', '\n#, fuzzy\nmsgid "', text, count=1)

    def empty_one(text):
        return re.sub(r'\nmsgstr "(?=[^"\n])[^\n]*\n', '\nmsgstr ""\n', text, count=1)

    def wrong_plural(text):
        return text.replace('plural=(n != 1);', 'plural=(n > 1);', 1)

    def extra_entry(text):
        return text + '\nmsgid "A string no source has"\nmsgstr "Ein Text aus keiner Quelle"\n'

    def failed(path):
        return {i for i, (_, faults) in enumerate(checks(lang, path, extracted, msgfmt)) if faults}

    expectations = [(drop_last_entry, 2), (fuzzy_first, 0), (empty_one, 0),
                    (wrong_plural, 1), (extra_entry, 2)]
    # Checks that fail on the real file already are reported below.
    already = failed(po)
    problems = []
    for edit, failing in expectations:
        planted = plant(po, workdir, 'planted-' + edit.__name__ + '.po', edit)
        new = failed(planted) - already
        if failing not in already and new != {failing}:
            problems.append('%s: made checks %s fail, not {%d}' % (edit.__name__, new, failing))
    return problems


def main():
    root, xgettext, msgfmt = sys.argv[1:4]
    with open(os.path.join(root, 'po', 'LINGUAS'), encoding='utf-8') as linguas:
        languages = [word for line in linguas if not line.startswith('#')
                     for word in line.split()]
    if not languages:
        print('Bail out! po/LINGUAS names no language')
        return 1

    with tempfile.TemporaryDirectory() as workdir:
        extracted = extract(root, xgettext, workdir)
        results = []
        first = os.path.join(root, 'po', languages[0] + '.po')
        results.append(('self-test: planted faults in a copy of %s.po are caught' % languages[0],
                        self_test(languages[0], first, extracted, msgfmt, workdir)))
        for lang in languages:
            po = os.path.join(root, 'po', lang + '.po')
            if not os.path.isfile(po):
                results.append(('%s.po exists' % lang, ['po/LINGUAS names %s, but po/%s.po is missing'
                                                        % (lang, lang)]))
                continue
            results += checks(lang, po, extracted, msgfmt)

    print('1..%d' % len(results))
    for number, (what, faults) in enumerate(results, 1):
        print('%s %d - %s' % ('not ok' if faults else 'ok', number, what))
        for fault in faults:
            for line in fault.splitlines():
                print('# ' + line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
