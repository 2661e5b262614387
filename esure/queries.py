"""Query expressions the ORM does not spell the way PostgreSQL's planner needs."""

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
