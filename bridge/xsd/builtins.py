"""The XML Schema built-in datatypes as shared model objects.

Every built-in is one ``SimpleType`` (``anyType`` is a ``ComplexType``) created once at import
time and shared by every ``SchemaSet``. They are never stored in ``SchemaSet.types`` and must be
treated as read-only: the reader never appends to their ``derived`` lists.

Built-in facets are left empty on purpose: consumers map ``SimpleType.builtin`` names to value
ranges and formats themselves (see ``BUILTIN_PARENT`` for the derivation tree).

SOAP 1.1 encoding (``soapenc``) types with the name of an XSD built-in are aliases of it;
``soapenc:base64`` is ``base64Binary``. ``soapenc:Array`` and ``soapenc:Struct`` are not here:
the reader makes one per schema set, because they collect ``derived`` subtypes.
"""

from __future__ import annotations

from bridge.model import XSD_NS, Any, ComplexType, Group, QName, SimpleType, XsdType
from bridge.namespaces import SOAPENC as SOAPENC_NS

# Built-in name -> the built-in it is derived from (None for the primitives' root).
# XSD 1.0 Part 2, section 3 (plus the four XSD 1.1 additions, which share the namespace).
BUILTIN_PARENT: dict[str, str | None] = {
    "anySimpleType": None,
    # primitives
    "string": "anySimpleType",
    "boolean": "anySimpleType",
    "decimal": "anySimpleType",
    "float": "anySimpleType",
    "double": "anySimpleType",
    "duration": "anySimpleType",
    "dateTime": "anySimpleType",
    "time": "anySimpleType",
    "date": "anySimpleType",
    "gYearMonth": "anySimpleType",
    "gYear": "anySimpleType",
    "gMonthDay": "anySimpleType",
    "gDay": "anySimpleType",
    "gMonth": "anySimpleType",
    "hexBinary": "anySimpleType",
    "base64Binary": "anySimpleType",
    "anyURI": "anySimpleType",
    "QName": "anySimpleType",
    "NOTATION": "anySimpleType",
    # derived from string
    "normalizedString": "string",
    "token": "normalizedString",
    "language": "token",
    "NMTOKEN": "token",
    "NMTOKENS": "NMTOKEN",  # list of NMTOKEN
    "Name": "token",
    "NCName": "Name",
    "ID": "NCName",
    "IDREF": "NCName",
    "IDREFS": "IDREF",  # list of IDREF
    "ENTITY": "NCName",
    "ENTITIES": "ENTITY",  # list of ENTITY
    # derived from decimal
    "integer": "decimal",
    "nonPositiveInteger": "integer",
    "negativeInteger": "nonPositiveInteger",
    "long": "integer",
    "int": "long",
    "short": "int",
    "byte": "short",
    "nonNegativeInteger": "integer",
    "unsignedLong": "nonNegativeInteger",
    "unsignedInt": "unsignedLong",
    "unsignedShort": "unsignedInt",
    "unsignedByte": "unsignedShort",
    "positiveInteger": "nonNegativeInteger",
    # XSD 1.1
    "anyAtomicType": "anySimpleType",
    "dateTimeStamp": "dateTime",
    "dayTimeDuration": "duration",
    "yearMonthDuration": "duration",
}

# The three built-in list types and their item types.
_LIST_TYPES = {"NMTOKENS": "NMTOKEN", "IDREFS": "IDREF", "ENTITIES": "ENTITY"}


def _make_builtins() -> dict[str, SimpleType]:
    made: dict[str, SimpleType] = {}
    for name in BUILTIN_PARENT:
        made[name] = SimpleType(qname=QName(XSD_NS, name), builtin=name)
    for name, item in _LIST_TYPES.items():
        made[name].variety = "list"
        made[name].item_type = made[item]
    return made


BUILTIN_SIMPLE_TYPES: dict[str, SimpleType] = _make_builtins()

ANY_SIMPLE_TYPE: SimpleType = BUILTIN_SIMPLE_TYPES["anySimpleType"]
STRING: SimpleType = BUILTIN_SIMPLE_TYPES["string"]


def any_content() -> Group:
    """The content of anyType: any number of any elements, laxly validated."""
    return Group("sequence", [Any(min_occurs=0, max_occurs=None, process_contents="lax")])


ANY_TYPE: ComplexType = ComplexType(qname=QName(XSD_NS, "anyType"), mixed=True, content=any_content(), any_attribute=True)


def builtin_type(name: str) -> XsdType | None:
    """The built-in with this local name in the XSD namespace, or None."""
    if name == "anyType":
        return ANY_TYPE
    return BUILTIN_SIMPLE_TYPES.get(name)


def soapenc_alias(name: str) -> XsdType | None:
    """The XSD built-in a ``soapenc`` type of this local name stands for, or None."""
    if name == "base64":
        return BUILTIN_SIMPLE_TYPES["base64Binary"]
    return builtin_type(name)


def is_derived_from(name: str, ancestor: str) -> bool:
    """True if built-in ``name`` is ``ancestor`` or derives from it (``int`` -> ``integer``)."""
    current: str | None = name
    while current is not None:
        if current == ancestor:
            return True
        current = BUILTIN_PARENT.get(current)
    return False


__all__ = [
    "ANY_SIMPLE_TYPE",
    "ANY_TYPE",
    "BUILTIN_PARENT",
    "BUILTIN_SIMPLE_TYPES",
    "SOAPENC_NS",
    "STRING",
    "any_content",
    "builtin_type",
    "is_derived_from",
    "soapenc_alias",
]
