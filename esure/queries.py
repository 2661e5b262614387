"""Query expressions the ORM does not spell the way PostgreSQL's planner needs."""

import itertools
import re
import weakref

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import BooleanField, F, Func, Subquery


class AnyOf(Func):
    """`column` is one of the values `queryset` selects (one column), as a condition that
    can be OR-ed with another on the same table without scanning it.

    `Q(company=c) | Q(work__joint_venture__in=…)` (own rows, or those of the company's
    共同企業体) made PostgreSQL join every work to every guarantee and filter the pairs: a
    sequential scan of both tables for each list page (4 ms at 10,000 guarantees, growing
    with the registry). Written `work_id = ANY(ARRAY(SELECT …))`, the subquery runs once
    (an InitPlan) and both sides of the OR are index scans, combined by a BitmapOr (0.2 ms,
    the same at any size). Elsewhere (SQLite, the demo) it is the plain `IN (SELECT …)`."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column, queryset):
        super().__init__(F(column), Subquery(queryset))

    def _sides(self, compiler, connection):
        column, column_params = compiler.compile(self.source_expressions[0])
        subquery, subquery_params = compiler.compile(self.source_expressions[1])
        return column, subquery, (*column_params, *subquery_params)

    def as_sql(self, compiler, connection, **extra_context):
        column, subquery, params = self._sides(compiler, connection)
        return f"{column} IN {subquery}", params

    def as_postgresql(self, compiler, connection, **extra_context):
        column, subquery, params = self._sides(compiler, connection)
        return f"{column} = ANY(ARRAY{subquery})", params


# The statements prepared on each PostgreSQL connection (decision 0055): psycopg connection →
# {SQL text: the name of its statement}. A name is never used twice: a round trip that failed
# may have prepared it (PREPARE is not undone by a rollback), so its SQL gets a new one.
_prepared_on = weakref.WeakKeyDictionary()
# A bound on each connection's statements: the lists' shapes are a handful, but a filter by a
# list of ids is a shape per length.
PREPARED_PER_CONNECTION = 64
_statement_names = itertools.count(1)


def run_prepared(connection, sql, params, *, generic=False):
    """The rows of `sql` (Django's placeholders, `%s`), run as a statement the server keeps
    prepared for the connection (decision 0055); with `generic`, always with the plan made
    once for any values (decision 0060), as D-Sure's lookup statement is.

    A SQL text that never changes between requests (a Prepared list's, the user's load) is
    then parsed and planned once per connection, not on every request: planning was a third
    of the contractor list's statement (0.7 of 2.2 ms at 10,000 guarantees). Its PREPARE goes
    out in the round trip of its first EXECUTE, so it costs no round trip of its own; psycopg's
    own prepared statements are left off (Django leaves them off, and psycopg drops every
    statement of the connection on each ROLLBACK, D-Sure's lookup statement included).
    Elsewhere (SQLite) the SQL runs as it is."""
    with connection.cursor() as cursor:  # first: it may replace a broken connection
        if connection.vendor != "postgresql":
            cursor.execute(sql, params)
            return cursor.fetchall()
        names = _prepared_on.setdefault(connection.connection, {})
        name = names.get(sql)
        if name is None and len(names) >= PREPARED_PER_CONNECTION:
            cursor.execute(sql, params)  # the server keeps enough of them already
            return cursor.fetchall()
        arguments = ", ".join(["%s"] * len(params))
        prepare = ""
        if name is None:
            name = f"esure_prepared_{next(_statement_names)}"
            prepare = f"PREPARE {name} AS {_numbered(sql)};\n"
        execute = f"EXECUTE {name}({arguments})" if params else f"EXECUTE {name}"
        if generic:
            execute = f"{_GENERIC};\n{execute}"
        cursor.execute(prepare + execute, params)
        while cursor.cursor.nextset():  # past the PREPARE's and the SET's results
            pass
        rows = cursor.fetchall()
    names[sql] = name
    return rows


# The generic plan for the statement that follows, in the same round trip: SET LOCAL lasts
# to the end of the transaction — the round trip's own, implicit one in autocommit (every
# request: no ATOMIC_REQUESTS), else the caller's, where it holds for the caller's later
# prepared statements too (each a LIMIT-bounded list or a lookup by key). Decision 0060.
_GENERIC = "SET LOCAL plan_cache_mode = force_generic_plan"


def _numbered(sql):
    """Django's `%s` placeholders as PREPARE's `$1`, `$2`, …; a literal `%%` stays as it is
    (the whole text is still formatted with the parameters)."""
    numbers = itertools.count(1)
    return re.sub(r"%[%s]", lambda m: m[0] if m[0] == "%%" else f"${next(numbers)}", sql)


class Prepared:
    """A queryset built and compiled to SQL once per process (per shape), then run with each
    request's values: for the lists a contractor pages through, whose SQL never changes
    between requests — only the company, a filter's value and the page.

    Building the contractor list's queryset and compiling it was about a third of the page's
    CPU (bench/README.md, issue 22); the ORM still writes the SQL, so the access rules
    (`readable_by`), AnyOf and every vendor's spelling stay the ORM's.

    `build(**values)` returns the queryset — a `values()` one, ordered — for the values of
    one request. To compile it once, `build` is called with a placeholder for each value
    that is not None (None, or an empty string, picks another shape: "no filter"); each
    placeholder must reach the SQL as a parameter of its own (an exact lookup such as
    `company=…` or `status=…`), which the first compile checks, and each request's values
    take the placeholders' places. A list of ids (`pk__in=…`) is a placeholder per id, its
    length part of the shape (an empty one reads nothing, as the ORM would). Rows come back
    as dicts of the values() names, through the fields' converters (the ORM's own: dates on
    SQLite), without a model instance. On PostgreSQL the statement is also kept prepared on
    each connection (run_prepared, decision 0055): planned once per connection, not per request.
    """

    # Values no request can carry: ids are positive, statuses are words.
    _INT = -(2**62)
    _STR = "\x00placeholder:{}\x00"

    def __init__(self, build):
        self.build = build
        self._compiled = {}  # by (database alias, vendor, shape)
        self._paged = {}  # the paged texts, by (that key, limit, past the first page)

    def rows(self, *, limit=None, offset=0, using=DEFAULT_DB_ALIAS, **values):
        """The rows of the list for these values: `limit` of them after `offset`, or all."""
        connection = connections[using]
        if any(isinstance(v, list | tuple) and not v for v in values.values()):
            return []  # `__in` an empty list: no row, no query
        shape = tuple(sorted((name, self._shape(value)) for name, value in values.items()))
        key = (using, connection.vendor, shape)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(using, values)
        sql, params, slots, names, converters = compiled
        params = list(params)
        for position, name, index in slots:
            params[position] = values[name] if index is None else values[name][index]
        if limit is not None:
            sql = self._paged_text(key, sql, limit, offset > 0)
            if offset > 0:
                params.append(offset)
        # A page of a list runs its generic plan (decision 0060): its LIMIT-bounded read in its
        # index's order is the right plan for every company, but the cost estimate for the
        # average company made PostgreSQL plan the contractor list anew on every request.
        # Unpaged statements (the user's load, menu 4's orderers) are left to its choice.
        rows = run_prepared(connection, sql, params, generic=limit is not None)
        if converters:
            rows = [self._convert(row, converters, connection) for row in rows]
        return [dict(zip(names, row, strict=True)) for row in rows]

    @staticmethod
    def _shape(value):
        if isinstance(value, list | tuple):
            return len(value)
        return value in (None, "")

    @staticmethod
    def _is_id(value):
        return isinstance(value, int) and not isinstance(value, bool)

    def _compile(self, using, values):
        placeholders = {}
        by_placeholder = {}  # placeholder → (name, index in its list or None)
        for i, (name, value) in enumerate(sorted(values.items())):
            if isinstance(value, list | tuple) and all(self._is_id(v) for v in value):
                ids = [self._INT + 1000 * i + j for j in range(len(value))]
                placeholders[name] = ids
                by_placeholder.update({p: (name, j) for j, p in enumerate(ids)})
            elif value in (None, ""):
                placeholders[name] = value
            elif self._is_id(value):
                placeholders[name] = self._INT + 1000 * i
                by_placeholder[placeholders[name]] = (name, None)
            elif isinstance(value, str):
                placeholders[name] = self._STR.format(i)
                by_placeholder[placeholders[name]] = (name, None)
            else:
                raise TypeError(f"{name}: only ids and strings can be prepared, not {value!r}")
        query = self.build(**placeholders).query
        if query.is_sliced:
            raise ValueError("a prepared list is paged by rows(limit=, offset=), not sliced")
        compiler = query.get_compiler(using)
        sql, params = compiler.as_sql()
        slots = [
            (i, *by_placeholder[p])
            for i, p in enumerate(params)
            if type(p) in (int, str) and p in by_placeholder
        ]
        missing = set(by_placeholder.values()) - {(name, index) for _, name, index in slots}
        if missing:
            names = sorted({name for name, _ in missing})
            raise ValueError(f"not a parameter of its own in the SQL: {names}")
        # As the ORM's own values() iterable names the columns.
        if query.selected:
            names = list(query.selected)
        else:
            names = [*query.extra_select, *query.values_select, *query.annotation_select]
        fields = [s[0] for s in compiler.select[: compiler.col_count]]
        if len(names) != len(fields):
            raise ValueError("a prepared list is a values() queryset")
        return sql, tuple(params), slots, names, compiler.get_converters(fields)

    def _paged_text(self, key, sql, limit, past_first):
        """The statement with its LIMIT written in, and OFFSET as a parameter past the first
        page only (decision 0057): with either as a parameter, PostgreSQL costs a prepared
        statement's generic plan as if it skipped and read a tenth of the rows, and kept
        planning menu 4's anew on every request. Made once: run_prepared looks a statement
        up by its text, and a str made anew per request would be hashed anew (~3 KB)."""
        text = self._paged.get((key, limit, past_first))
        if text is None:
            text = f"{sql} LIMIT {limit:d}" + (" OFFSET %s" if past_first else "")
            self._paged[(key, limit, past_first)] = text
        return text

    @staticmethod
    def _convert(row, converters, connection):
        row = list(row)
        for position, (functions, expression) in converters.items():
            value = row[position]
            for function in functions:
                value = function(value, expression, connection)
            row[position] = value
        return row
