"""XML bodies as a small tree the matching engine walks: names with namespaces resolved.

Two documents that bind the same namespace to different prefixes are the same document, so
names are kept as `{namespace-uri}local`, and `xmlns` declarations are not attributes.
Documents type definitions are refused: a pact body has no use for them, and they are how
entity-expansion attacks arrive.
"""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from msgspec import Struct, field


class XmlError(ValueError):
    """The text is not a well-formed XML document (or declares a DTD)."""


class XmlNode(Struct):
    name: str
    """`{uri}local` when the element is in a namespace, else `local`."""
    attributes: dict[str, str] = field(default_factory=dict)
    text: str = ""
    children: list[XmlNode] = field(default_factory=list)

    @property
    def local(self) -> str:
        return self.name.rsplit("}", 1)[-1]

    @property
    def is_list(self) -> bool:
        return True


def parse_xml(text: str) -> XmlNode:
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise XmlError("document type declarations are not accepted")
    try:
        root = ElementTree.fromstring(
            text.encode("utf-8") if text.lstrip().startswith("<?xml") else text
        )
    except ElementTree.ParseError as error:
        raise XmlError(str(error)) from None
    return _convert(root)


def _convert(element: ElementTree.Element) -> XmlNode:
    texts = [element.text or ""]
    children: list[XmlNode] = []
    for child in element:
        if isinstance(child.tag, str):
            children.append(_convert(child))
        texts.append(child.tail or "")
    return XmlNode(
        name=str(element.tag),
        attributes={str(k): str(v) for k, v in element.attrib.items()},
        text="".join(texts).strip(),
        children=children,
    )
