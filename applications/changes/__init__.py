"""Menu 5 — 保証契約締結後の変更: changes after conclusion (増額, 減額, 保証期限変更, 解約).

A change is an Application with menu 5 (decision 0005): it shares the workflow's status
table, services (save_draft, submit, withdraw, the staff's decisions, the 保証料入金 box),
fee module and mails. What only a change has lives here, laid out as an app is: its form
(forms.py), its rules (validation.py), the guarantees it may change (selectors.py) and its
pages (views.py, under the applications: URL names). The workflow reaches in at a few
documented places only: validation.application_errors hands a change to change_errors, the
edit page of a change application is edit_page here, and services.conclude_change issues
its new version (decision 0010).
"""
