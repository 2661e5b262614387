"""allauth's account adapter: the client's address comes from esure.clientip, the one
helper that knows how many proxies stand in front (its rate limits, such as 10 failed
logins a minute per address, would otherwise count every user behind the proxy together)."""

from allauth.account.adapter import DefaultAccountAdapter

from esure.clientip import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request):
        return client_ip(request)
