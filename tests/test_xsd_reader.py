"""The XSD reader: every construct it models, its error isolation, and the real corpus."""

from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import pytest
from lxml import etree

from bridge.errors import WsdlError
from bridge.model import XSD_NS, Any, Attribute, ComplexType, Element, Group, QName, SimpleType
from bridge.xsd.builtins import ANY_SIMPLE_TYPE, ANY_TYPE, BUILTIN_SIMPLE_TYPES, SOAPENC_NS, is_derived_from
from bridge.xsd.reader import SchemaSet, read_schemas

TNS = "urn:t"
XS_DECL = 'xmlns:xs="http://www.w3.org/2001/XMLSchema"'
MAIN = "/mem/main.wsdl"  # base URL of the inline schemas


def schema(body: str, tns: str | None = TNS, attrs: str = 'elementFormDefault="qualified"', xmlns: str = "") -> str:
    target = f'targetNamespace="{tns}" xmlns:tns="{tns}"' if tns is not None else ""
    return f"<xs:schema {XS_DECL} {target} {attrs} {xmlns}>{body}</xs:schema>"


def read(*inline: str, files: dict[str, str] | None = None, calls: list[str] | None = None) -> SchemaSet:
    store = {url: text.encode() for url, text in (files or {}).items()}

    def load(url: str) -> bytes:
        if calls is not None:
            calls.append(url)
        if url not in store:
            raise FileNotFoundError(f"no such document: {url}")
        return store[url]

    return read_schemas([(etree.fromstring(text), MAIN) for text in inline], load)


def q(name: str, ns: str = TNS) -> QName:
    return QName(ns, name)


def xs(name: str) -> QName:
    return QName(XSD_NS, name)


def ctype(ss: SchemaSet, name: str, ns: str = TNS) -> ComplexType:
    t = ss.get_type(QName(ns, name))
    assert isinstance(t, ComplexType)
    return t


def stype(ss: SchemaSet, name: str, ns: str = TNS) -> SimpleType:
    t = ss.get_type(QName(ns, name))
    assert isinstance(t, SimpleType)
    return t


def particles(ct: ComplexType) -> list[Element | Group | Any]:
    assert ct.content is not None
    return ct.content.particles


def elem(p: object) -> Element:
    assert isinstance(p, Element)
    return p


def group(p: object) -> Group:
    assert isinstance(p, Group)
    return p


# --- built-ins ---------------------------------------------------------------------


def test_builtins_are_resolvable_but_not_stored() -> None:
    ss = read(schema('<xs:element name="e" type="xs:int"/>'))
    assert ss.types == {}
    int_type = ss.get_type(xs("int"))
    assert isinstance(int_type, SimpleType)
    assert int_type.builtin == "int" and int_type.qname == xs("int") and int_type.facets.is_empty()
    assert ss.get_element(q("e")).type is int_type
    any_type = ss.get_type(xs("anyType"))
    assert any_type is ANY_TYPE and isinstance(any_type, ComplexType)
    assert any_type.mixed and any_type.any_attribute
    assert any_type.content is not None
    wildcard = any_type.content.particles[0]
    assert isinstance(wildcard, Any)
    assert (wildcard.min_occurs, wildcard.max_occurs, wildcard.process_contents) == (0, None, "lax")
    assert ss.get_type(xs("anySimpleType")) is ANY_SIMPLE_TYPE
    nmtokens = ss.get_type(xs("NMTOKENS"))
    assert isinstance(nmtokens, SimpleType) and nmtokens.variety == "list"
    assert nmtokens.item_type is BUILTIN_SIMPLE_TYPES["NMTOKEN"]
    with pytest.raises(KeyError, match="nope"):
        ss.get_type(xs("nope"))
    with pytest.raises(KeyError, match="nope"):
        ss.get_type(q("nope"))
    with pytest.raises(KeyError, match="nope"):
        ss.get_element(q("nope"))


def test_every_xsd_10_builtin_is_known() -> None:
    names = [
        "string",
        "boolean",
        "decimal",
        "float",
        "double",
        "duration",
        "dateTime",
        "time",
        "date",
        "gYearMonth",
        "gYear",
        "gMonthDay",
        "gDay",
        "gMonth",
        "hexBinary",
        "base64Binary",
        "anyURI",
        "QName",
        "NOTATION",
        "normalizedString",
        "token",
        "language",
        "NMTOKEN",
        "NMTOKENS",
        "Name",
        "NCName",
        "ID",
        "IDREF",
        "IDREFS",
        "ENTITY",
        "ENTITIES",
        "integer",
        "nonPositiveInteger",
        "negativeInteger",
        "long",
        "int",
        "short",
        "byte",
        "nonNegativeInteger",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
        "positiveInteger",
        "anySimpleType",
    ]
    for name in names:
        assert BUILTIN_SIMPLE_TYPES[name].builtin == name
    assert is_derived_from("unsignedByte", "integer") and not is_derived_from("string", "decimal")


def test_soapenc_types_are_aliases_without_the_encoding_schema() -> None:
    ss = read(
        schema(
            '<xs:element name="s" type="soapenc:string"/><xs:element name="b" type="soapenc:base64"/>'
            '<xs:element name="a" type="soapenc:Array"/><xs:element name="st" type="soapenc:Struct"/>',
            xmlns=f'xmlns:soapenc="{SOAPENC_NS}"',
        )
    )
    assert ss.skipped == []
    assert ss.get_element(q("s")).type is BUILTIN_SIMPLE_TYPES["string"]
    assert ss.get_element(q("b")).type is BUILTIN_SIMPLE_TYPES["base64Binary"]
    array = ss.get_element(q("a")).type
    assert isinstance(array, ComplexType) and array.qname == QName(SOAPENC_NS, "Array") and array.any_attribute
    assert ss.get_type(QName(SOAPENC_NS, "Struct")) is ss.get_element(q("st")).type
    assert ss.get_type(QName(SOAPENC_NS, "int")) is BUILTIN_SIMPLE_TYPES["int"]


# --- simple types ------------------------------------------------------------------


def test_facets_on_a_named_simple_type() -> None:
    ss = read(
        schema(
            """
            <xs:simpleType name="Code">
              <xs:annotation><xs:documentation>  A code.  </xs:documentation></xs:annotation>
              <xs:restriction base="xs:string">
                <xs:length value="3"/><xs:minLength value="3"/><xs:maxLength value="3"/>
                <xs:pattern value="[A-Z]+"/><xs:pattern value="[0-9]+"/>
                <xs:whiteSpace value="collapse"/>
                <xs:enumeration value="ABC"/><xs:enumeration value="123"/>
              </xs:restriction>
            </xs:simpleType>
            <xs:simpleType name="Amount">
              <xs:restriction base="xs:decimal">
                <xs:minInclusive value="0"/><xs:maxExclusive value="1000"/>
                <xs:totalDigits value="6"/><xs:fractionDigits value="2"/>
              </xs:restriction>
            </xs:simpleType>
            <xs:simpleType name="Range">
              <xs:restriction base="xs:int"><xs:minExclusive value="-5"/><xs:maxInclusive value="5"/></xs:restriction>
            </xs:simpleType>
            """
        )
    )
    code = stype(ss, "Code")
    assert code.qname == q("Code") and code.builtin == "string" and code.base is None
    assert code.doc == "A code."
    f = code.facets
    assert (f.length, f.min_length, f.max_length, f.white_space) == (3, 3, 3, "collapse")
    assert f.patterns == [["[A-Z]+", "[0-9]+"]]  # one derivation step, its patterns ORed
    assert f.enumeration == ["ABC", "123"]
    amount = stype(ss, "Amount").facets
    assert (amount.min_inclusive, amount.max_exclusive, amount.total_digits, amount.fraction_digits) == ("0", "1000", 6, 2)
    assert amount.min_exclusive is None and amount.max_inclusive is None
    r = stype(ss, "Range")
    assert r.builtin == "int" and (r.facets.min_exclusive, r.facets.max_inclusive) == ("-5", "5")
    assert ss.skipped == []


def test_anonymous_simple_types_in_element_and_attribute() -> None:
    ss = read(
        schema(
            """
            <xs:element name="e">
              <xs:annotation><xs:documentation>The e.</xs:documentation></xs:annotation>
              <xs:simpleType><xs:restriction base="xs:string"><xs:maxLength value="5"/></xs:restriction></xs:simpleType>
            </xs:element>
            <xs:complexType name="T">
              <xs:attribute name="a">
                <xs:simpleType><xs:restriction base="xs:int"><xs:minInclusive value="1"/></xs:restriction></xs:simpleType>
              </xs:attribute>
            </xs:complexType>
            """
        )
    )
    e = ss.get_element(q("e"))
    assert e.doc == "The e."
    assert isinstance(e.type, SimpleType) and e.type.qname is None
    assert e.type.builtin == "string" and e.type.facets.max_length == 5
    (a,) = ctype(ss, "T").attributes
    assert a.qname == QName("", "a") and a.type.qname is None
    assert a.type.builtin == "int" and a.type.facets.min_inclusive == "1"


def test_facets_are_inherited_along_restriction_chains() -> None:
    ss = read(
        schema(
            """
            <xs:simpleType name="A">
              <xs:restriction base="xs:token">
                <xs:pattern value="[a-z]+"/><xs:minLength value="1"/><xs:maxLength value="10"/>
                <xs:enumeration value="x"/><xs:enumeration value="yy"/><xs:enumeration value="zzz"/>
              </xs:restriction>
            </xs:simpleType>
            <xs:simpleType name="B">
              <xs:restriction base="tns:A"><xs:pattern value=".{1,2}"/><xs:maxLength value="5"/></xs:restriction>
            </xs:simpleType>
            <xs:simpleType name="C">
              <xs:restriction base="tns:B"><xs:enumeration value="x"/><xs:enumeration value="yy"/></xs:restriction>
            </xs:simpleType>
            <xs:simpleType name="D">
              <xs:restriction><xs:simpleType><xs:restriction base="tns:C"/></xs:simpleType>
                <xs:enumeration value="x"/></xs:restriction>
            </xs:simpleType>
            """
        )
    )
    a, b, c, d = (stype(ss, n) for n in "ABCD")
    assert a.builtin == b.builtin == c.builtin == d.builtin == "token"
    assert a.base is None and b.base is a and c.base is b
    assert b.facets.patterns == [["[a-z]+"], [".{1,2}"]]  # steps are ANDed: kept apart
    assert (b.facets.min_length, b.facets.max_length) == (1, 5)  # derived value wins, others inherited
    assert b.facets.enumeration == ["x", "yy", "zzz"]
    assert c.facets.enumeration == ["x", "yy"] and c.facets.patterns == b.facets.patterns
    assert a.facets.max_length == 10 and a.facets.patterns == [["[a-z]+"]]  # the base is untouched
    assert d.facets.enumeration == ["x"] and d.base is not None and d.base.qname is None and d.base.base is c


def test_list_and_union() -> None:
    ss = read(
        schema(
            """
            <xs:simpleType name="Ints"><xs:list itemType="xs:int"/></xs:simpleType>
            <xs:simpleType name="Codes">
              <xs:list><xs:simpleType><xs:restriction base="xs:string"><xs:length value="2"/></xs:restriction></xs:simpleType></xs:list>
            </xs:simpleType>
            <xs:simpleType name="ShortInts"><xs:restriction base="tns:Ints"><xs:maxLength value="3"/></xs:restriction></xs:simpleType>
            <xs:simpleType name="IntOrCode">
              <xs:union memberTypes="xs:int tns:Codes">
                <xs:simpleType><xs:restriction base="xs:string"><xs:enumeration value="none"/></xs:restriction></xs:simpleType>
              </xs:union>
            </xs:simpleType>
            """
        )
    )
    ints = stype(ss, "Ints")
    assert ints.variety == "list" and ints.item_type is BUILTIN_SIMPLE_TYPES["int"]
    codes = stype(ss, "Codes")
    assert codes.variety == "list" and codes.item_type is not None and codes.item_type.facets.length == 2
    short = stype(ss, "ShortInts")
    assert short.variety == "list" and short.item_type is BUILTIN_SIMPLE_TYPES["int"] and short.facets.max_length == 3
    assert short.base is ints
    union = stype(ss, "IntOrCode")
    assert union.variety == "union"
    assert union.member_types[0] is BUILTIN_SIMPLE_TYPES["int"] and union.member_types[1] is codes
    assert union.member_types[2].facets.enumeration == ["none"]


# --- complex types -----------------------------------------------------------------


def test_choice_in_sequence_nested_choice_and_occurs() -> None:
    ss = read(
        schema(
            """
            <xs:complexType name="T">
              <xs:annotation><xs:documentation>Tee</xs:documentation></xs:annotation>
              <xs:sequence>
                <xs:element name="a" type="xs:string" minOccurs="0"/>
                <xs:choice minOccurs="0" maxOccurs="unbounded">
                  <xs:element name="b" type="xs:int"/>
                  <xs:choice><xs:element name="c" type="xs:int"/><xs:element name="d" type="xs:int" maxOccurs="3"/></xs:choice>
                  <xs:sequence><xs:element name="e" type="xs:int"/></xs:sequence>
                </xs:choice>
                <xs:any namespace="##other" processContents="skip" minOccurs="0" maxOccurs="unbounded"/>
              </xs:sequence>
            </xs:complexType>
            <xs:complexType name="Every"><xs:all><xs:element name="x" type="xs:int"/></xs:all></xs:complexType>
            """
        )
    )
    t = ctype(ss, "T")
    assert t.doc == "Tee" and t.content is not None and t.content.kind == "sequence"
    a, choice, wildcard = particles(t)
    a = elem(a)
    assert a.qname == q("a") and (a.min_occurs, a.max_occurs) == (0, 1) and not a.is_global
    choice = group(choice)
    assert choice.kind == "choice" and (choice.min_occurs, choice.max_occurs) == (0, None) and choice.is_array
    b, inner, seq = choice.particles
    assert elem(b).qname == q("b")
    inner = group(inner)
    assert inner.kind == "choice" and [elem(p).qname.name for p in inner.particles] == ["c", "d"]
    assert elem(inner.particles[1]).max_occurs == 3
    assert group(seq).kind == "sequence"
    assert isinstance(wildcard, Any)
    assert (wildcard.namespace, wildcard.process_contents, wildcard.min_occurs, wildcard.max_occurs) == (
        "##other",
        "skip",
        0,
        None,
    )
    every = ctype(ss, "Every")
    assert every.content is not None and every.content.kind == "all"


def test_group_and_attribute_group_refs() -> None:
    ss = read(
        schema(
            """
            <xs:group name="G"><xs:choice><xs:element name="x" type="xs:int"/><xs:element name="y" type="xs:int"/></xs:choice></xs:group>
            <xs:attributeGroup name="Inner"><xs:attribute name="i" type="xs:int"/><xs:anyAttribute/></xs:attributeGroup>
            <xs:attributeGroup name="Outer">
              <xs:attribute name="o" type="xs:string" use="required"/><xs:attributeGroup ref="tns:Inner"/>
            </xs:attributeGroup>
            <xs:complexType name="T">
              <xs:sequence><xs:element name="a" type="xs:int"/><xs:group ref="tns:G" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
              <xs:attributeGroup ref="tns:Outer"/>
              <xs:attribute name="own" type="xs:int"/>
            </xs:complexType>
            <xs:complexType name="U"><xs:group ref="tns:G" maxOccurs="2"/></xs:complexType>
            """
        )
    )
    t = ctype(ss, "T")
    ref = group(particles(t)[1])
    named = ss.groups[q("G")]
    assert ref is not named and ref.kind == "choice" and (ref.min_occurs, ref.max_occurs) == (0, None)
    assert [elem(p).qname.name for p in ref.particles] == ["x", "y"]
    assert (named.min_occurs, named.max_occurs) == (1, 1)  # the definition keeps no reference's occurs
    assert [a.qname.name for a in t.attributes] == ["o", "i", "own"]
    assert t.attributes[0].required and not t.attributes[1].required
    assert t.any_attribute  # via Inner, through Outer
    u = ctype(ss, "U")
    assert u.content is not None and u.content.kind == "choice" and u.content.max_occurs == 2
    assert [a.qname.name for a in ss.attribute_groups[q("Outer")]] == ["o", "i"]
    assert ss.skipped == []


def test_complex_content_extension_and_restriction() -> None:
    ss = read(
        schema(
            """
            <xs:complexType name="Base" abstract="true">
              <xs:sequence><xs:element name="id" type="xs:int"/><xs:element name="note" type="xs:string" minOccurs="0"/></xs:sequence>
              <xs:attribute name="lang" type="xs:language"/>
              <xs:attribute name="rev" type="xs:int"/>
            </xs:complexType>
            <xs:complexType name="Ext">
              <xs:complexContent>
                <xs:extension base="tns:Base">
                  <xs:sequence><xs:element name="extra" type="xs:string"/></xs:sequence>
                  <xs:attribute name="flag" type="xs:boolean"/>
                </xs:extension>
              </xs:complexContent>
            </xs:complexType>
            <xs:complexType name="ExtExt">
              <xs:complexContent><xs:extension base="tns:Ext"/></xs:complexContent>
            </xs:complexType>
            <xs:complexType name="Res">
              <xs:complexContent>
                <xs:restriction base="tns:Base">
                  <xs:sequence><xs:element name="id" type="xs:int"/></xs:sequence>
                  <xs:attribute name="lang" type="xs:language" use="required"/>
                  <xs:attribute name="rev" use="prohibited"/>
                </xs:restriction>
              </xs:complexContent>
            </xs:complexType>
            <xs:complexType name="Plain"><xs:complexContent><xs:restriction base="xs:anyType">
              <xs:sequence><xs:element name="p" type="xs:int"/></xs:sequence></xs:restriction></xs:complexContent></xs:complexType>
            """
        )
    )
    base, ext, extext, res = (ctype(ss, n) for n in ("Base", "Ext", "ExtExt", "Res"))
    assert base.abstract and not ext.abstract
    assert ext.base is base and ext.derivation == "extension"
    assert [elem(p).qname.name for p in particles(ext)] == ["extra"]  # only what it adds
    assert [a.qname.name for a in ext.attributes] == ["flag"]
    assert [a.qname.name for a in ext.all_attributes()] == ["lang", "rev", "flag"]
    assert [len(g.particles) for g in ext.content_chain()] == [2, 1]
    assert extext.base is ext and extext.content is None
    assert base.derived == [ext, res] and ext.derived == [extext]  # direct subtypes only
    assert res.base is base and res.derivation == "restriction"
    assert [elem(p).qname.name for p in particles(res)] == ["id"]
    lang, rev = res.attributes
    assert lang.required and not lang.prohibited and rev.prohibited
    plain = ctype(ss, "Plain")
    assert plain.base is None and plain.derivation is None and len(particles(plain)) == 1
    assert ANY_TYPE.derived == []  # the shared built-in is never written to


def test_simple_content_extension_and_restriction() -> None:
    ss = read(
        schema(
            """
            <xs:simpleType name="Cur"><xs:restriction base="xs:string"><xs:length value="3"/></xs:restriction></xs:simpleType>
            <xs:complexType name="Money">
              <xs:simpleContent><xs:extension base="xs:decimal"><xs:attribute name="cur" type="tns:Cur"/></xs:extension></xs:simpleContent>
            </xs:complexType>
            <xs:complexType name="Price">
              <xs:simpleContent><xs:extension base="tns:Money"><xs:attribute name="net" type="xs:boolean"/></xs:extension></xs:simpleContent>
            </xs:complexType>
            <xs:complexType name="SmallMoney">
              <xs:simpleContent>
                <xs:restriction base="tns:Money">
                  <xs:maxInclusive value="100"/>
                  <xs:attribute name="cur" type="tns:Cur" use="required"/>
                </xs:restriction>
              </xs:simpleContent>
            </xs:complexType>
            <xs:complexType name="SameMoney">
              <xs:simpleContent><xs:restriction base="tns:Money"/></xs:simpleContent>
            </xs:complexType>
            <xs:complexType name="Named">
              <xs:simpleContent><xs:extension base="tns:Cur"/></xs:simpleContent>
            </xs:complexType>
            """
        )
    )
    money, price, small, same, named = (ctype(ss, n) for n in ("Money", "Price", "SmallMoney", "SameMoney", "Named"))
    decimal = BUILTIN_SIMPLE_TYPES["decimal"]
    assert money.simple_content is decimal and money.base is None and money.content is None
    assert [a.qname.name for a in money.attributes] == ["cur"]
    assert price.base is money and price.derivation == "extension" and price.simple_content is decimal
    assert [a.qname.name for a in price.attributes] == ["net"]
    assert [a.qname.name for a in price.all_attributes()] == ["cur", "net"]
    assert small.base is money and small.derivation == "restriction"
    value = small.simple_content
    assert value is not None and value.qname is None and value.builtin == "decimal" and value.facets.max_inclusive == "100"
    (cur,) = small.attributes
    assert cur.required
    assert same.simple_content is decimal
    assert money.derived == [price, small, same]
    assert named.simple_content is stype(ss, "Cur") and named.value_type() is stype(ss, "Cur")


def test_mixed_and_any_attribute() -> None:
    ss = read(
        schema(
            """
            <xs:complexType name="M" mixed="true">
              <xs:sequence><xs:element name="b" type="xs:string"/></xs:sequence><xs:anyAttribute namespace="##other"/>
            </xs:complexType>
            <xs:complexType name="N"><xs:complexContent mixed="true"><xs:extension base="tns:M"/></xs:complexContent></xs:complexType>
            """
        )
    )
    m = ctype(ss, "M")
    assert m.mixed and m.any_attribute and m.attributes == []
    assert ctype(ss, "N").mixed


# --- elements and attributes -------------------------------------------------------


def test_element_properties_and_defaults() -> None:
    ss = read(
        schema(
            """
            <xs:element name="untyped"/>
            <xs:element name="n" type="xs:int" nillable="true" default="7"/>
            <xs:element name="f" type="xs:string" fixed="x"/>
            <xs:element name="abs" type="xs:string" abstract="true"/>
            <xs:complexType name="T">
              <xs:sequence><xs:element name="loose"/><xs:element name="opt" type="xs:int" nillable="true" default="1"/></xs:sequence>
              <xs:attribute name="plain"/>
            </xs:complexType>
            """
        )
    )
    untyped = ss.get_element(q("untyped"))
    assert untyped.type is ANY_TYPE and untyped.is_global
    n = ss.get_element(q("n"))
    assert n.nillable and n.default == "7" and not n.abstract
    assert ss.get_element(q("f")).fixed == "x"
    assert ss.get_element(q("abs")).abstract
    t = ctype(ss, "T")
    loose, opt = (elem(p) for p in particles(t))
    assert loose.type is ANY_TYPE
    assert opt.nillable and opt.default == "1"
    assert t.attributes[0].type is ANY_SIMPLE_TYPE


def test_element_and_attribute_refs_take_the_referring_occurs() -> None:
    ss = read(
        schema(
            """
            <xs:element name="item" type="xs:string" nillable="true"/>
            <xs:attribute name="ver" type="xs:int" default="1"/>
            <xs:complexType name="T">
              <xs:sequence><xs:element ref="tns:item" minOccurs="0" maxOccurs="unbounded"/><xs:element ref="tns:item"/></xs:sequence>
              <xs:attribute ref="tns:ver" use="required"/>
            </xs:complexType>
            """
        )
    )
    glob = ss.get_element(q("item"))
    many, one = (elem(p) for p in particles(ctype(ss, "T")))
    assert many is not glob and one is not glob and many is not one
    assert many.qname == glob.qname == q("item") and many.type is glob.type and many.nillable and many.is_global
    assert (many.min_occurs, many.max_occurs) == (0, None) and (one.min_occurs, one.max_occurs) == (1, 1)
    assert (glob.min_occurs, glob.max_occurs) == (1, 1)
    (ver,) = ctype(ss, "T").attributes
    assert ver.qname == q("ver") and ver.required and ver.default == "1" and ver is not ss.attributes[q("ver")]
    assert not ss.attributes[q("ver")].required


def test_qualified_and_unqualified_forms() -> None:
    ss = read(
        schema(
            """
            <xs:attribute name="g" type="xs:int"/>
            <xs:complexType name="T">
              <xs:sequence>
                <xs:element name="u" type="xs:int"/><xs:element name="qf" type="xs:int" form="qualified"/>
              </xs:sequence>
              <xs:attribute name="qa" type="xs:int"/><xs:attribute name="ua" type="xs:int" form="unqualified"/>
              <xs:attribute ref="tns:g"/>
            </xs:complexType>
            <xs:element name="top" type="tns:T"/>
            """,
            attrs='attributeFormDefault="qualified"',
        ),
        schema(
            '<xs:complexType name="Q"><xs:sequence><xs:element name="x" type="xs:int" form="unqualified"/>'
            '<xs:element name="y" type="xs:int"/></xs:sequence><xs:attribute name="a" type="xs:int"/></xs:complexType>',
            tns="urn:q",
        ),
    )
    t = ctype(ss, "T")
    u, qf = (elem(p) for p in particles(t))
    assert u.qname == QName("", "u") and qf.qname == q("qf")
    assert [a.qname for a in t.attributes] == [q("qa"), QName("", "ua"), q("g")]
    assert ss.get_element(q("top")).qname == q("top")  # global: always qualified
    qt = ctype(ss, "Q", "urn:q")
    assert [elem(p).qname for p in particles(qt)] == [QName("", "x"), QName("urn:q", "y")]
    assert qt.attributes[0].qname == QName("", "a")


def test_abstract_types_and_substitution_groups() -> None:
    ss = read(
        schema(
            """
            <xs:complexType name="Shape" abstract="true"><xs:sequence/></xs:complexType>
            <xs:complexType name="Circle"><xs:complexContent><xs:extension base="tns:Shape">
              <xs:sequence><xs:element name="r" type="xs:double"/></xs:sequence></xs:extension></xs:complexContent></xs:complexType>
            <xs:element name="shape" type="tns:Shape" abstract="true"/>
            <xs:element name="circle" type="tns:Circle" substitutionGroup="tns:shape"/>
            <xs:element name="bigCircle" substitutionGroup="tns:circle"/>
            <xs:element name="square" type="tns:Shape" substitutionGroup="tns:shape"/>
            <xs:complexType name="Drawing"><xs:sequence><xs:element ref="tns:shape" maxOccurs="unbounded"/></xs:sequence></xs:complexType>
            """
        )
    )
    shape, circle, big, square = (ss.get_element(q(n)) for n in ("shape", "circle", "bigCircle", "square"))
    assert shape.abstract
    assert shape.substitutes == [circle, big, square]  # transitive: members of members too
    assert circle.substitutes == [big]
    assert big.type is circle.type  # untyped member: the head's type
    assert ctype(ss, "Shape").derived == [ctype(ss, "Circle")]
    (ref,) = particles(ctype(ss, "Drawing"))
    assert elem(ref).substitutes == [circle, big, square] and elem(ref).abstract


def test_recursive_types() -> None:
    ss = read(
        schema(
            """
            <xs:complexType name="Node">
              <xs:sequence><xs:element name="child" type="tns:Node" minOccurs="0" maxOccurs="unbounded"/>
                <xs:element name="other" type="tns:Other" minOccurs="0"/></xs:sequence>
            </xs:complexType>
            <xs:complexType name="Other"><xs:sequence><xs:element name="back" type="tns:Node" minOccurs="0"/></xs:sequence></xs:complexType>
            <xs:element name="tree">
              <xs:complexType><xs:sequence><xs:element ref="tns:tree" minOccurs="0"/></xs:sequence></xs:complexType>
            </xs:element>
            <xs:complexType name="Sub"><xs:complexContent><xs:extension base="tns:Node">
              <xs:sequence><xs:element name="s" type="tns:Sub" minOccurs="0"/></xs:sequence></xs:extension></xs:complexContent></xs:complexType>
            """
        )
    )
    node, other = ctype(ss, "Node"), ctype(ss, "Other")
    child, oth = (elem(p) for p in particles(node))
    assert child.type is node and oth.type is other
    assert elem(particles(other)[0]).type is node
    tree = ss.get_element(q("tree"))
    assert isinstance(tree.type, ComplexType)
    assert elem(particles(tree.type)[0]).type is tree.type
    sub = ctype(ss, "Sub")
    assert elem(particles(sub)[0]).type is sub and sub.base is node
    assert ss.skipped == []


def test_long_reference_chains_do_not_recurse() -> None:
    count = 3000
    body = "".join(
        f'<xs:complexType name="T{i}"><xs:sequence><xs:element name="n" type="tns:T{i + 1}" minOccurs="0"/>'
        "</xs:sequence></xs:complexType>"
        for i in range(count)
    )
    body += f'<xs:complexType name="T{count}"><xs:sequence/></xs:complexType>'
    # Start from the deep end too: reading order must not matter.
    ss = read(schema(f'<xs:element name="root" type="tns:T0"/>{body}'))
    t: ComplexType = ss.get_element(q("root")).type  # type: ignore[assignment]
    for _ in range(count):
        nxt = elem(particles(t)[0]).type
        assert isinstance(nxt, ComplexType)
        t = nxt
    assert t.qname == q(f"T{count}")


def test_long_derivation_chains_do_not_recurse() -> None:
    count = 2000
    # The most derived types come first, so each one is met before its base.
    body = '<xs:complexType name="C0"><xs:sequence/></xs:complexType>'
    body += '<xs:simpleType name="S0"><xs:restriction base="xs:string"/></xs:simpleType>'
    for i in range(1, count + 1):
        body = (
            f'<xs:complexType name="C{i}"><xs:complexContent><xs:extension base="tns:C{i - 1}"/></xs:complexContent>'
            f'</xs:complexType><xs:simpleType name="S{i}"><xs:restriction base="tns:S{i - 1}">'
            f'<xs:pattern value="p{i}"/></xs:restriction></xs:simpleType>'
        ) + body
    ss = read(schema(f'<xs:element name="deep" type="tns:C{count}"/><xs:attribute name="a" type="tns:S{count}"/>{body}'))
    assert ss.skipped == []
    c: ComplexType | None = ctype(ss, f"C{count}")
    depth = 0
    while c is not None and c.base is not None:
        c, depth = c.base, depth + 1
    assert depth == count
    s = stype(ss, f"S{count}")
    assert len(s.facets.patterns) == count and s.builtin == "string"


# --- documents and namespaces ------------------------------------------------------


def test_chameleon_include_and_import_with_a_loader() -> None:
    calls: list[str] = []
    common = schema(
        '<xs:complexType name="Addr"><xs:sequence><xs:element name="city" type="xs:string"/>'
        '<xs:element name="zip" type="Zip"/></xs:sequence></xs:complexType>'
        '<xs:simpleType name="Zip"><xs:restriction base="xs:string"><xs:pattern value="\\d{5}"/></xs:restriction></xs:simpleType>',
        tns=None,
    )
    other = schema(
        '<xs:complexType name="Person"><xs:sequence><xs:element name="name" type="xs:string"/></xs:sequence></xs:complexType>',
        tns="urn:other",
    )
    ss = read(
        schema(
            '<xs:include schemaLocation="common.xsd"/>'
            '<xs:import namespace="urn:other" schemaLocation="sub/other.xsd"/>'
            '<xs:element name="home" type="tns:Addr"/><xs:element name="who" type="o:Person"/>',
            xmlns='xmlns:o="urn:other"',
        ),
        schema('<xs:include schemaLocation="common.xsd"/>', tns="urn:second"),
        files={"/mem/common.xsd": common, "/mem/sub/other.xsd": other},
        calls=calls,
    )
    assert ss.skipped == []
    addr = ctype(ss, "Addr")  # took the including schema's namespace
    assert ss.get_element(q("home")).type is addr
    zip_el = elem(particles(addr)[1])
    assert zip_el.qname == q("zip") and zip_el.type is stype(ss, "Zip")  # unprefixed ref follows too
    assert ctype(ss, "Addr", "urn:second") is not addr  # included again into another namespace
    assert ss.get_element(q("who")).type is ctype(ss, "Person", "urn:other")
    assert sorted(calls) == ["/mem/common.xsd", "/mem/sub/other.xsd"]  # each document loaded once
    assert set(ss.documents) == {"/mem/common.xsd", "/mem/sub/other.xsd"}


def test_import_without_location_resolves_against_the_set() -> None:
    ss = read(
        schema('<xs:import namespace="urn:b"/><xs:element name="x" type="b:B"/>', xmlns='xmlns:b="urn:b"'),
        schema('<xs:complexType name="B"><xs:sequence/></xs:complexType>', tns="urn:b"),
    )
    assert ss.skipped == []
    assert ss.get_element(q("x")).type is ctype(ss, "B", "urn:b")


def test_import_without_location_is_offered_by_namespace() -> None:
    ss = read(
        schema('<xs:import namespace="urn:well-known"/><xs:element name="x" type="w:W"/>', xmlns='xmlns:w="urn:well-known"'),
        files={
            "urn:well-known": schema(
                '<xs:simpleType name="W"><xs:restriction base="xs:int"/></xs:simpleType>', tns="urn:well-known"
            )
        },
    )
    assert ss.skipped == []
    assert ss.get_element(q("x")).type is stype(ss, "W", "urn:well-known")


def test_import_cycle_terminates() -> None:
    a = schema(
        '<xs:import namespace="urn:b" schemaLocation="b.xsd"/><xs:complexType name="A"><xs:sequence>'
        '<xs:element name="b" type="b:B" minOccurs="0"/></xs:sequence></xs:complexType>',
        tns="urn:a",
        xmlns='xmlns:b="urn:b"',
    )
    b = schema(
        '<xs:import namespace="urn:a" schemaLocation="a.xsd"/><xs:complexType name="B"><xs:sequence>'
        '<xs:element name="a" type="a:A" minOccurs="0"/></xs:sequence></xs:complexType>',
        tns="urn:b",
        xmlns='xmlns:a="urn:a"',
    )
    calls: list[str] = []
    ss = read(
        schema('<xs:import namespace="urn:a" schemaLocation="a.xsd"/>', xmlns='xmlns:a="urn:a"'),
        files={"/mem/a.xsd": a, "/mem/b.xsd": b},
        calls=calls,
    )
    assert sorted(calls) == ["/mem/a.xsd", "/mem/b.xsd"]
    ta, tb = ctype(ss, "A", "urn:a"), ctype(ss, "B", "urn:b")
    assert elem(particles(ta)[0]).type is tb and elem(particles(tb)[0]).type is ta
    assert ss.skipped == []


def test_redefine() -> None:
    original = schema(
        '<xs:complexType name="T"><xs:sequence><xs:element name="a" type="xs:int"/></xs:sequence></xs:complexType>'
        '<xs:simpleType name="S"><xs:restriction base="xs:string"><xs:maxLength value="10"/></xs:restriction></xs:simpleType>'
        '<xs:group name="G"><xs:sequence><xs:element name="g1" type="xs:int"/></xs:sequence></xs:group>'
        '<xs:attributeGroup name="AG"><xs:attribute name="x" type="xs:int"/></xs:attributeGroup>'
        '<xs:element name="useT" type="tns:T"/>',
    )
    ss = read(
        schema(
            """
            <xs:redefine schemaLocation="orig.xsd">
              <xs:complexType name="T"><xs:complexContent><xs:extension base="tns:T">
                <xs:sequence><xs:element name="b" type="xs:int"/></xs:sequence></xs:extension></xs:complexContent></xs:complexType>
              <xs:simpleType name="S"><xs:restriction base="tns:S"><xs:maxLength value="5"/></xs:restriction></xs:simpleType>
              <xs:group name="G"><xs:sequence><xs:group ref="tns:G"/><xs:element name="g2" type="xs:int"/></xs:sequence></xs:group>
              <xs:attributeGroup name="AG"><xs:attributeGroup ref="tns:AG"/><xs:attribute name="y" type="xs:int"/></xs:attributeGroup>
            </xs:redefine>
            <xs:complexType name="UsesG"><xs:sequence><xs:group ref="tns:G"/></xs:sequence><xs:attributeGroup ref="tns:AG"/></xs:complexType>
            """
        ),
        files={"/mem/orig.xsd": original},
    )
    t = ctype(ss, "T")
    assert t.derivation == "extension" and t.base is not None and t.base is not t
    assert t.base.qname == q("T") and [elem(p).qname.name for p in particles(t.base)] == ["a"]
    assert [elem(p).qname.name for p in particles(t)] == ["b"]
    assert ss.get_element(q("useT")).type is t  # the original schema's references see the redefinition
    s = stype(ss, "S")
    assert s.facets.max_length == 5 and s.base is not None and s.base.facets.max_length == 10
    (g_ref,) = particles(ctype(ss, "UsesG"))
    inner, g2 = group(g_ref).particles
    assert [elem(p).qname.name for p in group(inner).particles] == ["g1"] and elem(g2).qname.name == "g2"
    assert [a.qname.name for a in ctype(ss, "UsesG").attributes] == ["x", "y"]
    assert ss.skipped == []


def test_soapenc_arrays() -> None:
    ss = read(
        schema(
            """
            <xs:import namespace="http://schemas.xmlsoap.org/soap/encoding/"/>
            <xs:complexType name="Item"><xs:all><xs:element name="id" type="xs:int"/></xs:all></xs:complexType>
            <xs:complexType name="ItemArray">
              <xs:complexContent><xs:restriction base="soapenc:Array">
                <xs:attribute ref="soapenc:arrayType" wsdl:arrayType="tns:Item[]"/>
              </xs:restriction></xs:complexContent>
            </xs:complexType>
            <xs:complexType name="StringArray">
              <xs:complexContent><xs:restriction base="soapenc:Array">
                <xs:attribute ref="soapenc:arrayType" wsdl:arrayType="xsd:string[]"/>
              </xs:restriction></xs:complexContent>
            </xs:complexType>
            <xs:complexType name="Grid">
              <xs:complexContent><xs:restriction base="soapenc:Array">
                <xs:attribute ref="soapenc:arrayType" wsdl:arrayType="xsd:int[][]"/>
              </xs:restriction></xs:complexContent>
            </xs:complexType>
            <xs:complexType name="SeqArray">
              <xs:complexContent><xs:restriction base="soapenc:Array">
                <xs:sequence><xs:element name="item" type="tns:Item" maxOccurs="unbounded"/></xs:sequence>
              </xs:restriction></xs:complexContent>
            </xs:complexType>
            """,
            xmlns=f'xmlns:soapenc="{SOAPENC_NS}" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:xsd="{XSD_NS}"',
        )
    )
    assert ss.skipped == []  # no soap-encoding schema needed
    item = ctype(ss, "Item")
    array = ctype(ss, "ItemArray")
    soapenc_array = ss.get_type(QName(SOAPENC_NS, "Array"))
    assert array.base is soapenc_array and array.derivation == "restriction" and array.soapenc_array_item is item
    assert [a.qname for a in array.attributes] == [QName(SOAPENC_NS, "arrayType")]
    assert ctype(ss, "StringArray").soapenc_array_item is BUILTIN_SIMPLE_TYPES["string"]
    rows = ctype(ss, "Grid").soapenc_array_item
    assert isinstance(rows, ComplexType) and rows.soapenc_array_item is BUILTIN_SIMPLE_TYPES["int"]
    assert ctype(ss, "SeqArray").soapenc_array_item is item
    assert isinstance(soapenc_array, ComplexType) and array in soapenc_array.derived
    assert ss.types.get(QName(SOAPENC_NS, "Array")) is None  # like a built-in: resolvable, not stored


# --- errors ------------------------------------------------------------------------


def test_a_broken_reference_is_isolated() -> None:
    ss = read(
        schema(
            """
            <xs:complexType name="Broken"><xs:sequence>
              <xs:element name="ok" type="xs:int"/><xs:element name="bad" type="tns:Missing"/>
              <xs:element ref="tns:nowhere"/><xs:group ref="tns:NoGroup"/>
            </xs:sequence><xs:attribute name="a" type="zz:Gone"/><xs:attributeGroup ref="tns:NoAG"/></xs:complexType>
            <xs:complexType name="Fine"><xs:sequence><xs:element name="x" type="xs:string"/></xs:sequence></xs:complexType>
            <xs:simpleType name="BadBase"><xs:restriction base="tns:Nope"><xs:maxLength value="x"/></xs:restriction></xs:simpleType>
            <xs:complexType name="BadExt"><xs:complexContent><xs:extension base="tns:Absent"/></xs:complexContent></xs:complexType>
            <xs:element name="e" type="tns:Missing"/>
            """,
            xmlns='xmlns:zz="urn:zz"',
        )
    )
    broken = ctype(ss, "Broken")
    ok, bad, nowhere, nogroup = particles(broken)
    assert elem(ok).type is BUILTIN_SIMPLE_TYPES["int"] and elem(bad).type is ANY_TYPE
    assert elem(nowhere).qname == q("nowhere") and elem(nowhere).type is ANY_TYPE
    assert isinstance(group(nogroup).particles[0], Any)
    assert broken.attributes[0].type is ANY_SIMPLE_TYPE and broken.any_attribute
    assert len(particles(ctype(ss, "Fine"))) == 1
    assert stype(ss, "BadBase").builtin == "anySimpleType"
    assert ctype(ss, "BadExt").base is None
    assert ss.get_element(q("e")).type is ANY_TYPE
    reasons = {s.name: [] for s in ss.skipped}  # type: dict[str, list[str]]
    for s in ss.skipped:
        assert s.kind == "type"
        assert MAIN in s.reason  # names the document
        reasons[s.name].append(s.reason)
    broken_reasons = " | ".join(reasons[str(q("Broken"))])
    for missing in ("{urn:t}Missing", "{urn:t}nowhere", "{urn:t}NoGroup", "{urn:zz}Gone", "{urn:t}NoAG"):
        assert missing in broken_reasons
    assert "urn:zz" in broken_reasons and "no schema in the set" in broken_reasons
    assert "{urn:t}Nope" in " ".join(reasons[str(q("BadBase"))])
    assert "maxLength" in " ".join(reasons[str(q("BadBase"))])
    assert "{urn:t}Absent" in " ".join(reasons[str(q("BadExt"))])
    assert "{urn:t}Missing" in " ".join(reasons[str(q("e"))])


def test_circular_derivation_and_duplicates_do_not_crash() -> None:
    ss = read(
        schema(
            """
            <xs:complexType name="A"><xs:complexContent><xs:extension base="tns:B"/></xs:complexContent></xs:complexType>
            <xs:complexType name="B"><xs:complexContent><xs:extension base="tns:A"/></xs:complexContent></xs:complexType>
            <xs:simpleType name="S1"><xs:restriction base="tns:S2"/></xs:simpleType>
            <xs:simpleType name="S2"><xs:restriction base="tns:S1"/></xs:simpleType>
            <xs:group name="G"><xs:sequence><xs:group ref="tns:G"/></xs:sequence></xs:group>
            <xs:complexType name="D"><xs:sequence/></xs:complexType>
            <xs:complexType name="D"><xs:sequence><xs:element name="second" type="xs:int"/></xs:sequence></xs:complexType>
            """
        )
    )
    text = " ".join(s.reason for s in ss.skipped)
    assert "circular derivation" in text and "circular simple type" in text and "contains itself" in text
    assert "defined again" in text
    assert particles(ctype(ss, "D")) == []  # the first definition wins
    assert {QName(TNS, n) for n in ("A", "B", "S1", "S2", "D")} <= set(ss.types)


def test_failed_import_is_skipped_but_failed_include_is_fatal() -> None:
    ss = read(
        schema(
            '<xs:import namespace="urn:gone" schemaLocation="http://example.invalid/gone.xsd"/>'
            '<xs:element name="x" type="g:T"/><xs:element name="y" type="xs:int"/>',
            xmlns='xmlns:g="urn:gone"',
        )
    )
    (schema_skip,) = [s for s in ss.skipped if s.kind == "schema"]
    assert schema_skip.name == "http://example.invalid/gone.xsd" and "urn:gone" in schema_skip.reason
    assert ss.get_element(q("x")).type is ANY_TYPE and ss.get_element(q("y")).type is BUILTIN_SIMPLE_TYPES["int"]
    with pytest.raises(WsdlError, match=r"/mem/missing\.xsd"):
        read(schema('<xs:include schemaLocation="missing.xsd"/>'))


def test_unsafe_or_malformed_documents_are_refused() -> None:
    doctype = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]>' + schema("")
    with pytest.raises(WsdlError, match="DTD"):
        read(schema('<xs:import namespace="urn:t" schemaLocation="d.xsd"/>'), files={"/mem/d.xsd": doctype})
    with pytest.raises(WsdlError, match="not well-formed"):
        read(schema('<xs:include schemaLocation="bad.xsd"/>'), files={"/mem/bad.xsd": "<xs:schema"})
    with pytest.raises(WsdlError, match="not an XML Schema"):
        read(schema('<xs:include schemaLocation="html.xsd"/>'), files={"/mem/html.xsd": "<html/>"})


def test_well_known_attribute_stand_ins() -> None:
    ss = read(
        schema(
            '<xs:complexType name="T"><xs:attribute ref="xml:lang"/></xs:complexType>',
            xmlns='xmlns:xml="http://www.w3.org/XML/1998/namespace"',
        )
    )
    assert ss.skipped == []
    (lang,) = ctype(ss, "T").attributes
    assert isinstance(lang, Attribute) and lang.type is BUILTIN_SIMPLE_TYPES["language"]


def test_reference_to_the_schema_for_schemas_element() -> None:
    # .NET DataSet style: <s:element ref="s:schema"/> needs no document and is not an error.
    ss = read(
        schema(
            '<xs:complexType name="DataSet"><xs:sequence><xs:element ref="xs:schema"/><xs:any/></xs:sequence></xs:complexType>'
        )
    )
    assert ss.skipped == []
    first = elem(particles(ctype(ss, "DataSet"))[0])
    assert first.qname == xs("schema") and first.type is ANY_TYPE


def test_extension_of_a_mixed_type_is_mixed() -> None:
    ss = read(
        schema(
            '<xs:complexType name="M" mixed="true"><xs:sequence/></xs:complexType>'
            '<xs:complexType name="E"><xs:complexContent><xs:extension base="tns:M"/></xs:complexContent></xs:complexType>'
        )
    )
    assert ctype(ss, "E").mixed


def test_the_real_soap_encoding_schema_changes_nothing() -> None:
    try:
        encoding = resources.files("xmlschema").joinpath("schemas/WSDL/soap-encoding.xsd").read_text()
    except (ModuleNotFoundError, FileNotFoundError):
        pytest.skip("xmlschema's soap-encoding.xsd is not installed")
    ss = read(
        schema(
            '<xs:import namespace="http://schemas.xmlsoap.org/soap/encoding/" schemaLocation="enc.xsd"/>'
            '<xs:complexType name="A"><xs:complexContent><xs:restriction base="soapenc:Array">'
            '<xs:attribute ref="soapenc:arrayType" wsdl:arrayType="soapenc:string[]"/>'
            "</xs:restriction></xs:complexContent></xs:complexType>",
            xmlns=f'xmlns:soapenc="{SOAPENC_NS}" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/"',
        ),
        files={"/mem/enc.xsd": encoding},
    )
    assert ss.skipped == []
    a = ctype(ss, "A")
    assert a.base is ss.get_type(QName(SOAPENC_NS, "Array")) and a.soapenc_array_item is BUILTIN_SIMPLE_TYPES["string"]
    assert a.attributes[0].qname == QName(SOAPENC_NS, "arrayType")
    assert ss.types.get(QName(SOAPENC_NS, "string")) is None  # aliases win over the document's types


# --- the real corpus ---------------------------------------------------------------

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CORPUS = SHARED / "wsdl-corpus"
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"


def _corpus_entries() -> list[str]:
    manifest = CORPUS / "MANIFEST.tsv"
    if not manifest.is_file():
        return []
    with manifest.open(newline="") as fh:
        return [row["entry"] for row in csv.DictReader(fh, delimiter="\t") if row["entry"].endswith(".wsdl")]


def _file_loader(url: str) -> bytes:
    if url.startswith(("http://", "https://")):
        raise OSError(f"network access is off in tests: {url}")
    return Path(url.removeprefix("file://")).read_bytes()


def _inline_schemas(path: Path, seen: set[Path]) -> list[tuple[etree._Element, str]]:
    """wsdl:types schemas of a WSDL and of the local WSDLs it imports."""
    if path in seen:
        return []
    seen.add(path)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
    root = etree.fromstring(path.read_bytes(), parser)
    found: list[tuple[etree._Element, str]] = []
    for imp in root.iter(f"{{{WSDL_NS}}}import"):
        location = imp.get("location", "")
        if location.endswith(".wsdl") and not location.startswith(("http:", "https:")):
            found += _inline_schemas((path.parent / location).resolve(), seen)
    for types in root.iter(f"{{{WSDL_NS}}}types"):
        for child in types:
            if child.tag == f"{{{XSD_NS}}}schema":
                found.append((child, str(path)))
            elif child.tag == f"{{{XSD_NS}}}import":
                # Some WSDLs put xs:import straight under wsdl:types: wrap it in a schema.
                wrapper = etree.Element(f"{{{XSD_NS}}}schema")
                wrapper.append(etree.fromstring(etree.tostring(child)))
                found.append((wrapper, str(path)))
    return found


@pytest.mark.corpus
@pytest.mark.parametrize("entry", _corpus_entries() or ["(no corpus)"])
def test_corpus_reads(entry: str) -> None:
    if not CORPUS.is_dir() or entry == "(no corpus)":
        pytest.skip(f"{CORPUS} is absent")
    path = CORPUS / entry
    # No timing here (the suite's timeout stops a hang): bench/start.py times the largest corpus WSDLs.
    ss = read_schemas(_inline_schemas(path, set()), _file_loader)
    for skipped in ss.skipped:
        assert skipped.kind in ("type", "schema") and skipped.reason
    # Every global element resolves to a built type; every named type is modelled.
    for element in ss.elements.values():
        assert isinstance(element.type, ComplexType | SimpleType)
    for qname, t in ss.types.items():
        assert t.qname == qname
