"""What validation returns: the messages for each form field (menus 1–3 and changes alike)."""

MSG_REQUIRED = "入力してください。"


class Errors(dict):
    """{form field: [messages]}, as the forms show them next to each field ("__all__": at
    the top of the form)."""

    def add(self, field, messages):
        """Add one message or a list of them (nothing for an empty list) to `field`."""
        if messages:
            self.setdefault(field, []).extend([messages] if isinstance(messages, str) else messages)

    def add_problems(self, problems, *, default, fields=None):
        """Add a rule's problems (rules.Problem), each next to the form field of the fact it
        names (`fields`: the rule's field → the form's), else next to `default`."""
        for problem in problems:
            self.add((fields or {}).get(problem.field, default), problem)
