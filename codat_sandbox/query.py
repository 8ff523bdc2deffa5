"""Codat's query language (docs: using-the-api/querying) and orderBy, applied to record dicts.

Supported: `=`, `!=`, `~` (contains), `>`, `<`, `>=`, `<=`, `&&`, `||`, `{ }` grouping and dotted
sub-properties, e.g. `status=Active && {supplierName~acme || defaultCurrency=USD}`. Matching is
case-insensitive for property names and string values. A null property never matches (Codat
cannot query nulls); a property no record has is an error, as in Codat.
"""

import re
from decimal import Decimal, InvalidOperation

MAX_QUERY_LENGTH = 2048


class QueryError(ValueError):
    """The query cannot be parsed; the API answers 400 'Error parsing query - Malformed query.'"""


class UnknownProperty(QueryError):
    """The query names a property the records do not have. Codat resolves every property
    against the data type's model and refuses the query rather than matching nothing, so a
    typo shows up as an error instead of an empty page."""

    def __init__(self, field: str):
        super().__init__(f"Could not resolve property {field}.")
        self.field = field


# Free-form maps (company tags, supplementalData.content, ...): any key may be asked for,
# whether or not some record has it.
OPEN_MAPS = frozenset({"tags", "content", "connectioninfo", "sourceurls"})


_TOKEN = re.compile(r"\s*(&&|\|\||\{|\}|!=|>=|<=|=|~|>|<)")
_FIELD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.]*)\s*")


def parse(text: str):
    """Parse a query into a nested tuple tree; raise QueryError when it is malformed."""
    if len(text) >= MAX_QUERY_LENGTH:
        raise QueryError("query too long")
    parser = _Parser(text)
    tree = parser.parse_or()
    parser.skip_space()
    if parser.pos != len(text):
        raise QueryError(f"unexpected text at {parser.pos}")
    return tree


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def skip_space(self):
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self, token: str) -> bool:
        self.skip_space()
        return self.text.startswith(token, self.pos)

    def parse_or(self):
        terms = [self.parse_and()]
        while self.peek("||"):
            self.pos += 2
            terms.append(self.parse_and())
        return terms[0] if len(terms) == 1 else ("or", terms)

    def parse_and(self):
        terms = [self.parse_term()]
        while self.peek("&&"):
            self.pos += 2
            terms.append(self.parse_term())
        return terms[0] if len(terms) == 1 else ("and", terms)

    def parse_term(self):
        if self.peek("{"):
            self.pos += 1
            inner = self.parse_or()
            if not self.peek("}"):
                raise QueryError("unbalanced braces")
            self.pos += 1
            return inner
        match = _FIELD.match(self.text, self.pos)
        if not match:
            raise QueryError(f"expected a property name at {self.pos}")
        field = match.group(1)
        self.pos = match.end()
        op_match = _TOKEN.match(self.text, self.pos)
        if not op_match or op_match.group(1) in ("&&", "||", "{", "}"):
            raise QueryError(f"expected an operator after {field}")
        op = op_match.group(1)
        self.pos = op_match.end()
        value = self.read_value()
        if value == "":
            raise QueryError(f"missing value for {field}")
        return ("cmp", field, op, value)

    def read_value(self) -> str:
        self.skip_space()
        if self.pos < len(self.text) and self.text[self.pos] in "\"'":
            quote = self.text[self.pos]
            end = self.text.find(quote, self.pos + 1)
            if end == -1:
                raise QueryError("unterminated quote")
            value = self.text[self.pos + 1 : end]
            self.pos = end + 1
            return value
        start = self.pos
        while self.pos < len(self.text):
            if self.text.startswith(("&&", "||"), self.pos) or self.text[self.pos] in "{}":
                break
            self.pos += 1
        value = self.text[start : self.pos].strip()
        if any(op in value for op in ("!=", ">=", "<=", "=", "~", ">", "<")):
            raise QueryError("two operators in one comparison")
        return value


_MISSING = object()


def _lookup(value: dict, name: str):
    """`value[name]` matching the name case-insensitively; _MISSING when there is no such key."""
    if name in value:
        return value[name]
    key = {key.lower(): key for key in value}.get(name.lower())
    return _MISSING if key is None else value[key]


def resolve(record: dict, dotted: str):
    """Look a dotted property up case-insensitively; None when absent."""
    value = record
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = _lookup(value, part)
        if value is _MISSING:
            return None
    return value


def fields(tree):
    """Every property a parsed query compares."""
    if tree[0] == "cmp":
        yield tree[1]
        return
    for term in tree[1]:
        yield from fields(term)


def check_properties(tree, records: list[dict], optional=()) -> None:
    """Raise UnknownProperty for the first property of the query no record has.

    The sandbox has no model to resolve against, so the records stand in for it: a property
    is known when some record has it (null or not). `optional` names properties the listing
    omits while unset (a pull's `completed`), which are known even when no record has them.
    """
    optional = {name.lower() for name in optional}
    for field in fields(tree):
        if not _resolvable(field, records, optional):
            raise UnknownProperty(field)


def _resolvable(dotted: str, records: list[dict], optional: set[str]) -> bool:
    parts = dotted.split(".")
    found: list = list(records)
    for depth, part in enumerate(parts):
        if ".".join(parts[: depth + 1]).lower() in optional:
            return True
        level = [value for value in found if isinstance(value, dict)]
        if not level:
            # A string or number has no sub-properties; but with no records, or a parent that
            # is null or a list wherever it is set, the shape cannot be seen, so the query is
            # not second-guessed (it matches nothing).
            return not any(value is not None and not isinstance(value, list) for value in found)
        found = [value for value in (_lookup(r, part) for r in level) if value is not _MISSING]
        if not found:
            return depth > 0 and parts[depth - 1].lower() in OPEN_MAPS
    return True


def _compare(actual, op: str, expected: str) -> bool:
    if actual is None or isinstance(actual, (dict, list)):
        return False
    if isinstance(actual, bool):
        left, right = str(actual).lower(), expected.lower()
    elif isinstance(actual, (int, float, Decimal)):
        try:
            left, right = Decimal(str(actual)), Decimal(expected)
        except InvalidOperation:
            return op == "!="
    else:
        left, right = str(actual).lower(), expected.lower()
    if op == "=":
        return left == right
    if op == "!=":
        return left != right
    if op == "~":
        return str(right) in str(left)
    try:
        return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[op]
    except TypeError:
        return False


def matches(tree, record: dict) -> bool:
    kind = tree[0]
    if kind == "and":
        return all(matches(term, record) for term in tree[1])
    if kind == "or":
        return any(matches(term, record) for term in tree[1])
    _, field, op, value = tree
    return _compare(resolve(record, field), op, value)


def apply(
    records: list[dict], query: str | None, order_by: str | None = None, optional=()
) -> list[dict]:
    """Filter then order; raises QueryError for a malformed query and UnknownProperty for a
    property the records do not have (see check_properties for `optional`)."""
    if query:
        tree = parse(query)
        check_properties(tree, records, optional)
        records = [record for record in records if matches(tree, record)]
    if order_by:
        for part in reversed([p.strip() for p in order_by.split(",") if p.strip()]):
            descending = part.startswith("-")
            field = part.lstrip("-+")
            if not _FIELD.fullmatch(field):
                raise QueryError(f"cannot order by {field}")
            present = [r for r in records if resolve(r, field) is not None]
            missing = [r for r in records if resolve(r, field) is None]
            present.sort(key=lambda r, f=field: _sort_key(resolve(r, f)), reverse=descending)
            records = present + missing
    return records


def _sort_key(value):
    if isinstance(value, bool):
        return (0, int(value), "")
    if isinstance(value, (int, float, Decimal)):
        return (0, Decimal(str(value)), "")
    return (1, 0, str(value).lower())
