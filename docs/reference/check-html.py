#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks the gtk-doc HTML manual as a reader meets it.

Usage: check-html.py HTML_DIR [CHAPTER_ID...]

Fails (exit status 1, one line per problem) when
- a link (href) of a page names a page of HTML_DIR that does not exist,
  or an anchor that the page it names does not have;
- a code example is not highlighted: gtk-doc 1.33 highlights, through
  Pygments, the listings inside an informalexample or example (with the
  C lexer, whatever their language), and leaves a bare programlisting
  plain;
- a CHAPTER_ID given on the command line is not a page reachable from
  index.html, or the first thing a class page describes is not a code
  example (the manual's rule: every class section starts with one).
Links that leave HTML_DIR (other manuals, the web) are not checked.
"""

import html.parser
import os
import re
import sys
import urllib.parse


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors = set()
        self.links = []           # (line, href)
        self.listings = []        # whether each has a highlighted token
        self._in_listing = False
        self._after_heading = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ('id', 'name'):
            if attrs.get(key):
                self.anchors.add(attrs[key])
        if tag == 'a' and attrs.get('href'):
            self.links.append((self.getpos()[0], attrs['href']))
        # The declaration under a symbol's heading is gtk-doc's own markup,
        # not an example.
        if tag == 'pre' and 'programlisting' in (attrs.get('class') or '').split():
            if not self._after_heading:
                self._in_listing = True
                self.listings.append(False)
        elif tag == 'span' and self._in_listing:
            self.listings[-1] = True

        if tag not in ('a', 'span', 'code', 'em'):
            self._after_heading = False

    def handle_endtag(self, tag):
        if tag == 'pre':
            self._in_listing = False
        self._after_heading = tag == 'h3'


# What follows the "Description" heading of a class page.
DESCRIPTION = re.compile(r'<h2>Description</h2>\s*<(\w+)(?:\s+class="([^"]*)")?')


def parse(path):
    page = Page()
    with open(path, encoding='utf-8') as f:
        text = f.read()
    page.feed(text)
    m = DESCRIPTION.search(text)
    page.description_starts = m and (m.group(2) or m.group(1))
    return page


def main(argv):
    if len(argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    html_dir = argv[1]
    chapters = argv[2:]
    pages = {name: parse(os.path.join(html_dir, name))
             for name in sorted(os.listdir(html_dir)) if name.endswith('.html')}
    problems = []

    for name, page in pages.items():
        for line, href in page.links:
            url = urllib.parse.urlsplit(href)
            if url.scheme or url.netloc or url.path.startswith(('/', '../')):
                continue
            target = url.path or name
            if target not in pages:
                if not os.path.exists(os.path.join(html_dir, target)):
                    problems.append(f'{name}:{line}: link to a missing page: {href}')
                continue
            if url.fragment and url.fragment not in pages[target].anchors:
                problems.append(f'{name}:{line}: link to a missing anchor: {href}')
        for i, highlighted in enumerate(page.listings):
            if not highlighted:
                problems.append(f'{name}: code example {i + 1} is not highlighted')

    reachable, todo = set(), ['index.html']
    while todo:
        name = todo.pop()
        if name in reachable or name not in pages:
            continue
        reachable.add(name)
        todo += [urllib.parse.urlsplit(href).path for _, href in pages[name].links]
    for chapter in chapters:
        if chapter + '.html' not in reachable:
            problems.append(f'{chapter}.html: not reachable from index.html')

    for name, page in pages.items():
        if name.startswith('Pmt') and page.description_starts != 'informalexample':
            problems.append(f'{name}: the description does not start with an example '
                            f'(but with {page.description_starts})')

    for problem in problems:
        print(problem)
    print(f'{len(pages)} pages, {sum(len(p.links) for p in pages.values())} links, '
          f'{sum(len(p.listings) for p in pages.values())} code examples, '
          f'{len(problems)} problems')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
