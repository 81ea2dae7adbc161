"""The platform's claims: its users' verified name and resident ID number (first_name and last_name here)."""

from oauth2_provider.oauth2_validators import OAuth2Validator


class PlatformClaims(OAuth2Validator):
    oidc_claim_scope = None  # every claim with the openid scope, as the national platform gives them

    def get_additional_claims(self, request):
        user = request.user
        claims = {"name": user.first_name, "id_number": user.last_name}
        return {key: value for key, value in claims.items() if value}  # a user without a number gets no such claim
