# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""The compiled codec's inner loops in C.

Decoding walks libxml2's nodes directly, through lxml's public C API, instead of creating a
Python proxy for every element, attribute and text. Encoding writes the request body as text
from the JSON value, as ``_pycodec``'s writers do, without the interpreter in between.

``compiled.py`` builds the plans (for decoding, one ``TypePlan`` per complex type and one
``Simple`` per simple type; for encoding, ``TypeWriter``, ``ElementWriter`` and ``Lexical``) once
per type, and this module follows them. ``_pycodec.py`` has the same interface in pure Python and
follows the same plans when this module is not built. Each plan carries the Python converters:
where a lexical form is not the plain kind handled here, the converter is called with the text, so
both modules give the same answer; where the content is not what the plan expects, it raises
``Unhandled`` and the caller hands the whole message to the generic codec.
"""

cimport cython

from cpython.dict cimport PyDict_GetItem
from cpython.list cimport PyList_Append
from cpython.object cimport PyObject
from cpython.unicode cimport PyUnicode_DecodeUTF8
from libc.string cimport strcmp, strlen

cimport lxml.includes.etreepublic as cetree
from lxml.includes cimport tree
from lxml.includes.etreepublic cimport _Document, _Element

cetree.import_lxml__etree()


class Unhandled(Exception):
    """Content the plan does not cover: the message goes to the generic codec."""


cdef const char* XSI = b"http://www.w3.org/2001/XMLSchema-instance"

# Simple kinds: how a text becomes a JSON value.
TEXT, INTEGER, BOOLEAN, NUMBER, CONVERT, COLLAPSE = 0, 1, 2, 3, 4, 7
# Particle kinds beyond the simple ones: a complex element with a plan; any element through
# a Python decoder that takes an lxml element.
ELEMENT, NODE = 5, 6


cdef inline str _utf8(const tree.xmlChar* s):
    if s is NULL:
        return ""
    return PyUnicode_DecodeUTF8(<const char*>s, strlen(<const char*>s), NULL)


cdef inline bint _is_text(tree.xmlNode* c) noexcept:
    return c is not NULL and (c.type == tree.XML_TEXT_NODE or c.type == tree.XML_CDATA_SECTION_NODE)


cdef str _text(tree.xmlNode* n):
    """lxml's ``.text``, or "": the run of text and CDATA nodes before any other child."""
    cdef tree.xmlNode* c = n.children
    if not _is_text(c):
        return ""
    if not _is_text(c.next):
        return _utf8(c.content)
    parts = []
    while _is_text(c):
        parts.append(_utf8(c.content))
        c = c.next
    return "".join(parts)


cdef tree.xmlAttr* _attr(tree.xmlNode* n, const char* ns, const char* name) noexcept:
    """The attribute ``name`` in namespace ``ns`` (NULL: in none), as lxml's ``get`` finds it."""
    cdef tree.xmlAttr* a = n.properties
    while a is not NULL:
        if strcmp(<const char*>a.name, name) == 0:
            if ns is NULL:
                if a.ns is NULL:
                    return a
            elif a.ns is not NULL and strcmp(<const char*>a.ns.href, ns) == 0:
                return a
        a = a.next
    return NULL


cdef str _attr_value(tree.xmlAttr* a):
    cdef tree.xmlNode* c = a.children
    if c is NULL:
        return ""
    if c.next is NULL and c.type == tree.XML_TEXT_NODE:
        return _utf8(c.content)
    raise Unhandled("an attribute value made of several nodes")


cdef bint _is_nil(tree.xmlNode* n) except -1:
    cdef tree.xmlAttr* a = _attr(n, XSI, b"nil")
    if a is NULL:
        return False
    v = _attr_value(a)
    return v == "true" or v == "1"


cdef inline bint _xml_space(Py_UCS4 ch) noexcept:
    return ch == u" " or ch == u"\t" or ch == u"\n" or ch == u"\r"


cdef bint _collapsed(str s):
    """Whether whitespace collapsing leaves s as it is: ASCII only, single inner spaces."""
    cdef Py_ssize_t i, n = len(s)
    cdef Py_UCS4 ch, prev = u" "
    if n == 0:
        return True
    for i in range(n):
        ch = s[i]
        if ch > 127 or ch == u"\t" or ch == u"\n" or ch == u"\r" or ch == 11 or ch == 12 or (ch >= 28 and ch <= 31):
            return False  # other whitespace str.split() knows, or non-ASCII: the Python converter decides
        if ch == u" " and prev == u" ":
            return False  # leading or doubled space
        prev = ch
    return prev != u" "


@cython.final
cdef class Simple:
    """A simple type's text -> JSON value, as the Python converter ``conv`` gives it."""

    cdef int kind
    cdef object conv  # the Python converter (text -> value); None for TEXT
    cdef object lo, hi  # integer bounds, or None
    cdef bint is_decimal, whole

    def __init__(self, int kind, conv=None, lo=None, hi=None, bint is_decimal=False, bint whole=False):
        self.kind = kind
        self.conv = conv
        self.lo = lo
        self.hi = hi
        self.is_decimal = is_decimal
        self.whole = whole

    cpdef object convert(self, str s):
        """The JSON value of the text ``s``."""
        if self.kind == TEXT:
            return s
        if self.kind == INTEGER:
            return self._integer(s)
        if self.kind == BOOLEAN:
            t = s.strip() if (s and (_xml_space(s[0]) or _xml_space(s[len(s) - 1]))) else s
            if t == "true" or t == "1":
                return True
            if t == "false" or t == "0":
                return False
        elif self.kind == NUMBER:
            return self._number(s)
        elif self.kind == COLLAPSE and _collapsed(s):
            return s
        return self.conv(s)

    cdef object _integer(self, str s):
        cdef bint point = False
        t = _plain_number(s, False, &point)
        if t is None:
            return self.conv(s)  # not plain digits: the Python converter decides
        v = int(t)
        if (self.lo is not None and v < self.lo) or (self.hi is not None and v > self.hi):
            raise Unhandled("an integer out of range")
        return v

    cdef object _number(self, str s):
        cdef bint point = False
        t = _plain_number(s, True, &point)
        if t is None:
            return self.conv(s)  # exponents, INF, NaN and the like: the Python converter decides
        if self.is_decimal and not point:
            return int(t)
        if self.is_decimal and self.whole:
            return self.conv(s)
        r = float(t)
        if r - r != 0:  # beyond the double range: conv gives "INF" or "-INF"
            return self.conv(s)
        return r


cdef str _plain_number(str s, bint allow_point, bint* point):
    """s without surrounding XML whitespace when it is [+-]digits, or with allow_point
    [+-]digits.digits (either side of the point may be empty, not both); else None."""
    cdef Py_ssize_t i = 0, end = len(s), start
    cdef Py_UCS4 ch
    cdef int digits = 0
    while i < end and _xml_space(s[i]):
        i += 1
    while end > i and _xml_space(s[end - 1]):
        end -= 1
    start = i
    if i < end and (s[i] == u"+" or s[i] == u"-"):
        i += 1
    while i < end:
        ch = s[i]
        if u"0" <= ch <= u"9":
            digits += 1
        elif ch == u"." and allow_point and not point[0]:
            point[0] = True
        else:
            return None
        i += 1
    return s[start:end] if digits else None


cdef class Attr:
    """An attribute of a complex type: its JSON key, its name, its simple type's plan."""

    cdef str key
    cdef bytes ns  # None: no namespace
    cdef bytes local
    cdef bint unqualified_too
    cdef Simple simple

    def __init__(self, str key, str namespace, str name, Simple simple):
        """Looked up as ``{namespace}name``, then (qualification is not trusted) as ``name``."""
        self.key = key
        self.ns = namespace.encode() if namespace else None
        self.local = name.encode()
        self.unqualified_too = bool(namespace)
        self.simple = simple


cdef class Particle:
    """A child element of a complex type, with how to decode it: ``simple``, ``plan`` or ``decoder``."""

    cdef str name
    cdef bytes local
    cdef bint is_array, nillable
    cdef int kind, index
    cdef Simple simple  # simple kinds
    cdef TypePlan plan  # ELEMENT
    cdef object decoder  # NODE: a Python callable taking an lxml element

    def __init__(self, str name, bint is_array, bint nillable, int index, Simple simple=None, TypePlan plan=None, decoder=None):
        self.name = name
        self.local = name.encode()
        self.is_array = is_array
        self.nillable = nillable
        self.index = index
        self.simple = simple
        self.plan = plan
        self.decoder = decoder
        self.kind = ELEMENT if plan is not None else NODE if decoder is not None else simple.kind


cdef class TypePlan:
    """One complex type with plain content: its attributes, simpleContent value and elements."""

    cdef list attrs
    cdef Simple value  # None: no simpleContent
    cdef list particles
    cdef Py_ssize_t count
    cdef tuple keys  # the generic codec's key order
    cdef object subtypes  # None, or the Python decoder for a node carrying xsi:type

    def fill(self, list attrs, Simple value, list particles, tuple keys, subtypes):
        self.attrs = attrs
        self.value = value
        self.particles = particles
        self.count = len(particles)
        self.keys = keys
        self.subtypes = subtypes

    def decode(self, _Element el):
        """An lxml element of this type -> its JSON object."""
        return _decode(self, el._c_node, el._doc)


cdef class ElementPlan:
    """An element of a complex type with a plan: xsi:nil, then the type."""

    cdef TypePlan plan
    cdef bint nillable

    def __init__(self, TypePlan plan, bint nillable):
        self.plan = plan
        self.nillable = nillable

    def __call__(self, _Element el):
        if _is_nil(el._c_node):
            if not self.nillable:
                raise Unhandled("nil on an element that is not nillable")
            return None
        return _decode(self.plan, el._c_node, el._doc)


cdef Particle _find(TypePlan p, const char* name, Py_ssize_t hint):
    # Elements mostly come in schema order: look at the next particle first.
    cdef Py_ssize_t i, j
    cdef Particle spec
    for j in range(p.count):
        i = hint + j
        if i >= p.count:
            i -= p.count
        spec = <Particle>p.particles[i]
        if strcmp(<const char*>spec.local, name) == 0:
            return spec
    return None


# Elements decoded since the GIL was last offered to other threads. A large reply is decoded in
# a worker thread (Bridge._afinish); this loop never returns to the interpreter, which would
# otherwise switch threads every few milliseconds, so the event loop would wait for all of it.
cdef Py_ssize_t _since_yield = 0


cdef inline void _offer_gil():
    global _since_yield
    _since_yield += 1
    if _since_yield >= 2048:
        _since_yield = 0
        with nogil:  # a waiting thread that asked for the GIL takes it here
            pass


cdef dict _decode(TypePlan p, tree.xmlNode* n, _Document doc):
    cdef dict out
    cdef Attr a
    cdef tree.xmlAttr* found
    cdef tree.xmlNode* c
    cdef Particle spec
    cdef Py_ssize_t last = -1
    cdef bint shuffled = False
    cdef PyObject* items
    if p.subtypes is not None and _attr(n, XSI, b"type") is not NULL:
        return p.subtypes(cetree.elementFactory(doc, n))
    out = {}
    for a in p.attrs:
        found = _attr(n, NULL if a.ns is None else <const char*>a.ns, <const char*>a.local)
        if found is NULL and a.unqualified_too:
            found = _attr(n, NULL, <const char*>a.local)
        if found is not NULL:
            out[a.key] = a.simple.convert(_attr_value(found))
    if p.value is not None:
        out["$value"] = p.value.convert(_text(n))
    c = n.children
    while c is not NULL:
        if c.type != tree.XML_ELEMENT_NODE:
            c = c.next
            continue
        spec = _find(p, <const char*>c.name, last + 1 if last >= 0 else 0)
        if spec is None:
            raise Unhandled("an unexpected element")
        if spec.index < last:
            shuffled = True  # out of schema order: keys are put back in order below
        last = spec.index
        _offer_gil()
        if spec.kind == NODE:
            v = spec.decoder(cetree.elementFactory(doc, c))
        elif _is_nil(c):
            if not spec.nillable:
                raise Unhandled("nil on an element that is not nillable")
            v = None
        elif spec.kind == ELEMENT:
            v = _decode(spec.plan, c, doc)
        else:
            v = spec.simple.convert(_text(c))
        if spec.is_array:
            items = PyDict_GetItem(out, spec.name)
            if items is NULL:
                out[spec.name] = [v]
            else:
                PyList_Append(<object>items, v)
        elif spec.name in out:
            raise Unhandled("a second occurrence of a single element")
        else:
            out[spec.name] = v
        c = c.next
    if shuffled:
        out = {k: out[k] for k in p.keys if k in out}
    return out



# ---- encode ---------------------------------------------------------------------------

cdef object MISSING = object()
cdef str NIL_END = ' xsi:nil="true"/>'
# Lexical kinds: a JSON string as element text or as an attribute value; an int written by
# str(), a float for xs:decimal or xs:double; anything else, and any value of an unexpected
# kind, by the Python writer.
L_TEXT, L_INT, L_OTHER, L_ATTR, L_DECIMAL, L_DOUBLE = 0, 1, 2, 3, 4, 5
# How a child element is written: a string, another simple value, a complex value through its
# type's writer, anything else (arrays, substitution groups) through its element's writer.
W_STRING, W_SIMPLE, W_COMPLEX, W_WRITER = 0, 1, 2, 3


cdef str _escape_text(str s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


cdef inline str _text_value(object v):
    if type(v) is not str:
        raise Unhandled("a string was expected")
    cdef str s = <str>v
    if "&" in s or "<" in s or ">" in s or "\r" in s:
        return _escape_text(s)
    return s


cdef inline bint _attr_special(str s):
    cdef Py_UCS4 ch
    for ch in s:
        if ch == u"&" or ch == u"<" or ch == u">" or ch == u'"' or ch == u"\n" or ch == u"\r" or ch == u"\t":
            return True
    return False


cdef class Lexical:
    """A simple value -> its escaped lexical form, as the Python writer ``fn`` gives it."""

    cdef readonly int kind
    cdef object fn

    def __init__(self, int kind, fn):
        self.kind = kind
        self.fn = fn

    cdef inline str write(self, object v):
        cdef str r
        if self.kind == L_TEXT:
            return _text_value(v)
        if self.kind == L_ATTR:
            if type(v) is str and not _attr_special(<str>v):
                return <str>v
        elif self.kind == L_INT:
            if type(v) is int:
                return str(v)
        elif self.kind == L_DECIMAL:
            if type(v) is int:
                return str(v)
            if type(v) is float:
                r = repr(v)
                if "e" not in r and "n" not in r:  # no exponent, inf or nan: format(Decimal(r), "f") is r
                    return r
        elif self.kind == L_DOUBLE:
            if type(v) is float and v - v == 0:  # finite
                return repr(v)
        return self.fn(v)


cdef class Child:
    """A child element of a complex type, as its type's writer writes it (see ``W_STRING`` and co)."""

    cdef str key, opened, closed, nil
    cdef int mode
    cdef bint nillable
    cdef Lexical lexical  # W_SIMPLE
    cdef object fn  # W_COMPLEX: a TypeWriter or a Python type writer; W_WRITER: an ElementWriter or a Python writer

    def __init__(self, str key, int mode, str opened, str closed, str nil, bint nillable, Lexical lexical=None, fn=None):
        self.key = key
        self.mode = mode
        self.opened = opened
        self.closed = closed
        self.nil = nil
        self.nillable = nillable
        self.lexical = lexical
        self.fn = fn


cdef class TypeWriter:
    """Writes an element of one complex type: attributes, simpleContent or child elements."""

    cdef list attrs  # (key, ' name="', Lexical)
    cdef Lexical value  # None: no simpleContent
    cdef list children

    def fill(self, list attrs, Lexical value, list children):
        self.attrs = attrs
        self.value = value
        self.children = children

    def __call__(self, list out, str start, str close, v):
        self.write(out, start, close, v)

    cdef int write(self, list out, str start, str close, object v) except -1:
        # Pieces are appended, not concatenated: the final join copies each once.
        cdef Py_ssize_t used = 0, mark
        cdef Child c
        cdef dict d
        if type(v) is not dict:
            raise Unhandled("an object was expected")
        d = <dict>v
        if "$type" in d:
            raise Unhandled("$type")
        out.append(start)
        for key, head, lexical in self.attrs:
            a = d.get(key, MISSING)
            if a is not MISSING:
                used += 1
                out.append(head)
                out.append((<Lexical>lexical).write(a))
                out.append('"')
        if self.value is not None:
            text = d.get("$value", MISSING)
            if text is not MISSING:
                out.append(">")
                out.append(self.value.write(text))
                out.append(close)
                if used + 1 != len(d):
                    raise Unhandled("unknown fields")
                return 0
        mark = len(out)
        out.append(">")
        for c in self.children:
            x = d.get(c.key, MISSING)
            if x is MISSING:
                continue
            used += 1
            if x is None and c.mode != W_WRITER:
                if not c.nillable:
                    raise Unhandled("null on an element that is not nillable")
                out.append(c.nil)
            elif c.mode == W_STRING:
                out.append(c.opened)
                out.append(_text_value(x))
                out.append(c.closed)
            elif c.mode == W_SIMPLE:
                out.append(c.opened)
                out.append(c.lexical.write(x))
                out.append(c.closed)
            elif c.mode == W_COMPLEX:
                if type(c.fn) is TypeWriter:
                    (<TypeWriter>c.fn).write(out, c.opened, c.closed, x)
                else:
                    c.fn(out, c.opened, c.closed, x)
            elif type(c.fn) is ElementWriter:
                (<ElementWriter>c.fn).write(out, x)
            else:
                c.fn(out, x)
        if used != len(d):
            raise Unhandled("unknown fields")
        if len(out) == mark + 1:
            out[mark] = "/>"
        else:
            out.append(close)
        return 0


cdef class ElementWriter:
    """Writes an element (every occurrence, for an array) from its JSON value."""

    cdef str start, opened, close
    cdef bint nil, is_array
    cdef Lexical lexical  # a simple type
    cdef object tw  # a complex type: a TypeWriter or a Python type writer

    def __init__(self, str start, str close, bint nil, bint is_array, Lexical lexical=None, tw=None):
        self.start = start
        self.opened = start + ">"
        self.close = close
        self.nil = nil
        self.is_array = is_array
        self.lexical = lexical
        self.tw = tw

    def __call__(self, list out, v):
        self.write(out, v)

    cdef int write(self, list out, object v) except -1:
        if not self.is_array:
            return self.one(out, v)
        if type(v) is not list:
            raise Unhandled("an array was expected")
        for item in <list>v:
            self.one(out, item)
        return 0

    cdef int one(self, list out, object v) except -1:
        if v is None:
            if not self.nil:
                raise Unhandled("null on an element that is not nillable")
            out.append(self.start + NIL_END)
        elif self.lexical is not None:
            out.append(self.opened)
            out.append(self.lexical.write(v))
            out.append(self.close)
        elif type(self.tw) is TypeWriter:
            (<TypeWriter>self.tw).write(out, self.start, self.close, v)
        else:
            self.tw(out, self.start, self.close, v)
        return 0
