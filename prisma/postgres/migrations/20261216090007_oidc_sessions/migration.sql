-- A session opened through OIDC keeps the provider's ID token, sealed, for id_token_hint at sign-out.
ALTER TABLE "Session" ADD COLUMN "oidcIdTokenEnc" TEXT;
