#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every function the library exports is callable from bindings, or has a
recorded reason not to be and an alternative bindings can call.

Usage: check-gir.py Pmt-1.0.gir libpmt-1.0.so.  Reads the exported pmt_
symbols of the library (nm -D) and the GIR the build made, and prints TAP:
one line per exported symbol, then one per entry of SKIPPED below.  It
fails when a symbol is neither introspectable in the GIR nor in SKIPPED,
when a SKIPPED symbol's alternative is not introspectable, or when SKIPPED
is stale (the symbol is introspectable after all, or no longer exported).
A property left out of the GIR must be in SKIPPED_PROPERTIES the same way.
"""

import subprocess
import sys
import xml.etree.ElementTree as ET

import tap  # noqa: E402  (beside this script)

CORE = '{http://www.gtk.org/introspection/core/1.0}'
C = '{http://www.gtk.org/introspection/c/1.0}'
GLIB = '{http://www.gtk.org/introspection/glib/1.0}'
CALLABLES = {CORE + 'function', CORE + 'method', CORE + 'constructor'}

# symbol: (why bindings cannot call it, what they call instead)
SKIPPED = {
    'pmt_pool_map':
        ('takes an array of bare pointers', 'pmt_pool_map_values'),
    'pmt_pool_map_full':
        ('takes an array of bare pointers', 'pmt_pool_map_values_full'),
    'pmt_task_get_task_data':
        ('returns a bare pointer', 'pmt_task_get_task_value'),
    'pmt_task_set_task_data':
        ('takes a bare pointer with a lone GDestroyNotify', 'pmt_task_set_task_value'),
    'pmt_task_return_pointer':
        ('takes a bare pointer with a lone GDestroyNotify', 'pmt_task_return_value'),
    'pmt_task_get_result_pointer':
        ('returns a bare pointer', 'pmt_task_get_result'),
    'pmt_task_return_new_error':
        ('takes a printf() format and varargs', 'pmt_task_return_error'),
    'pmt_threaded_call':
        ('takes a bare pointer with a lone GDestroyNotify', 'pmt_threaded_call_value'),
}

# Class:property: (why, the accessor bindings use instead)
SKIPPED_PROPERTIES = {
    'Task:task-data': ('a gpointer property', 'pmt_task_get_task_value'),
}


def exported_symbols(library):
    listing = subprocess.run(['nm', '-D', '--defined-only', library],
                             check=True, capture_output=True, text=True).stdout
    symbols = set()
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2].startswith('pmt_'):
            symbols.add(fields[2])
    return symbols


def read_gir(path):
    """Returns ({c identifier: introspectable}, {Class:property: introspectable})."""
    callables, properties = {}, {}
    root = ET.parse(path).getroot()
    for element in root.iter():
        identifier = element.get(C + 'identifier')
        if element.tag in CALLABLES and identifier:
            callables[identifier] = element.get('introspectable', '1') == '1'
        get_type = element.get(GLIB + 'get-type')
        if get_type:
            callables[get_type] = True
        if element.tag == CORE + 'class':
            for prop in element.findall(CORE + 'property'):
                key = '%s:%s' % (element.get('name'), prop.get('name'))
                properties[key] = prop.get('introspectable', '1') == '1'
    return callables, properties


def check_symbol(symbol, callables):
    if callables.get(symbol):
        if symbol in SKIPPED:
            return 'introspectable, but SKIPPED lists it: remove it there'
        return None
    if symbol not in SKIPPED:
        where = 'skipped in the GIR' if symbol in callables else 'missing from the GIR'
        return '%s, with no reason and no alternative recorded in SKIPPED' % where
    return None


def check_skipped(symbol, reason, alternative, callables, symbols):
    if symbol not in symbols:
        return 'not exported any more: remove it from SKIPPED'
    if not reason:
        return 'no reason recorded'
    if not callables.get(alternative):
        return 'its alternative %s is not introspectable' % alternative
    return None


def check_property(key, introspectable, callables):
    if introspectable:
        if key in SKIPPED_PROPERTIES:
            return 'introspectable, but SKIPPED_PROPERTIES lists it'
        return None
    if key not in SKIPPED_PROPERTIES:
        return 'skipped in the GIR, with no reason recorded in SKIPPED_PROPERTIES'
    if not callables.get(SKIPPED_PROPERTIES[key][1]):
        return 'its alternative %s is not introspectable' % SKIPPED_PROPERTIES[key][1]
    return None


def main():
    callables, properties = read_gir(sys.argv[1])
    symbols = exported_symbols(sys.argv[2])
    if not symbols or not callables:
        print('Bail out! no symbols or no GIR callables read')
        return 1

    results = []
    for symbol in sorted(symbols):
        results.append(('%s is callable from bindings' % symbol, check_symbol(symbol, callables)))
    for symbol, (reason, alternative) in sorted(SKIPPED.items()):
        results.append(('%s is skipped (%s); bindings call %s' % (symbol, reason, alternative),
                        check_skipped(symbol, reason, alternative, callables, symbols)))
    for key, introspectable in sorted(properties.items()):
        results.append(('property %s is readable from bindings, or has an alternative' % key,
                        check_property(key, introspectable, callables)))

    return tap.report(results)


if __name__ == '__main__':
    sys.exit(main())
