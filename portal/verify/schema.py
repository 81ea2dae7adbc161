"""The verification API's published schema: OpenAPI 3.1 at /api/verify/openapi.json (docs/api/verify.md).

The version is the API's, not the portal's: "2" added the verdict (verdict, reason, reason_text, public_reason) to
the fields of version 1, which are all still there. A test checks live answers against the required fields here.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from .lookup import Reason, State, Verdict

API_VERSION = "2"

_DATE = {"type": ["string", "null"], "format": "date"}

VERIFICATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "code",
        "verdict",
        "reason",
        "reason_text",
        "public_reason",
        "state",
        "document_type",
        "holder",
        "issued_on",
        "issuing_office",
        "valid_until",
        "revoked_on",
    ],
    "properties": {
        "code": {"type": "string", "description": "The verification code, canonical (five groups of four)."},
        "verdict": {
            "type": "string",
            "enum": [Verdict.VALID, Verdict.NOT_VALID],
            "description": '"valid" only when the document is genuine, unaltered, current and not revoked: it may '
            "be accepted. Anything else is not_valid, with the reason.",
        },
        "reason": {
            "type": ["string", "null"],
            "enum": [*Reason.ALL, None],
            "description": "Why the verdict is not_valid (null when valid). A stable machine code.",
        },
        "reason_text": {
            "type": "string",
            "description": "The verdict in words, in the request's language (Accept-Language or the language cookie).",
        },
        "public_reason": {
            "type": ["string", "null"],
            "description": "For a revoked or superseded document: the reason the issuing office made public.",
        },
        "state": {
            "type": "string",
            "enum": [State.VALID, State.REVOKED, State.EXPIRED, State.NOT_FOUND, State.GENERATING],
            "description": "Version 1's state, kept for compatibility: prefer verdict and reason.",
        },
        "document_type": {"type": ["string", "null"]},
        "holder": {"type": ["string", "null"], "description": "The holder's name, partly hidden (张*三)."},
        "issued_on": _DATE,
        "issuing_office": {"type": ["string", "null"]},
        "valid_until": _DATE,
        "revoked_on": _DATE,
    },
}

PDF_VERIFICATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "verdict",
        "reason",
        "reason_text",
        "result",
        "signed",
        "signature_valid",
        "signature_intact",
        "changed_after_signing",
        "hash_matches",
        "document",
    ],
    "properties": {
        "verdict": VERIFICATION_SCHEMA["properties"]["verdict"],
        "reason": VERIFICATION_SCHEMA["properties"]["reason"],
        "reason_text": VERIFICATION_SCHEMA["properties"]["reason_text"],
        "result": {
            "type": "string",
            "enum": ["genuine", "unsigned", "altered", "bad_signature", "unknown_hash"],
            "description": "What the file check found (before the document's own status).",
        },
        "signed": {"type": "boolean"},
        "signature_valid": {"type": "boolean", "description": "Signed with the portal's key, signed bytes intact."},
        "signature_intact": {
            "type": "boolean",
            "description": "Nothing changed since signing; a later document timestamp or DSS is no change.",
        },
        "changed_after_signing": {
            "type": "boolean",
            "description": "The signature checks out, but bytes were appended or the document updated after it.",
        },
        "hash_matches": {"type": "boolean", "description": "The SHA-256 of the file is that of an issued document."},
        "document": {
            "oneOf": [{"$ref": "#/components/schemas/Verification"}, {"type": "null"}],
            "description": "The issued document the file is, byte for byte; null if none.",
        },
    },
}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "enum": ["rate_limited", "invalid_upload"]},
        "detail": {"type": "string"},
    },
}


def _json_response(description: str, schema: str) -> dict[str, Any]:
    """An OpenAPI response whose JSON body is one of the components' schemas."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Henan e-Services: document verification",
            "version": API_VERSION,
            "description": "Check a certificate or licence issued through the portal by its verification code. "
            "No account and no key; limited per client address (429 with Retry-After past the limit).",
        },
        "servers": [{"url": settings.SITE_URL}],
        "paths": {
            "/api/verify/{code}/": {
                "get": {
                    "operationId": "verifyCode",
                    "summary": "The verdict on one verification code",
                    "parameters": [
                        {
                            "name": "code",
                            "in": "path",
                            "required": True,
                            "description": "20 Crockford base32 characters; hyphens optional, I/L/O read as 1/1/0.",
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _json_response(
                            "A document with this code exists (whatever its verdict).", "Verification"
                        ),
                        "404": _json_response(
                            'No document with this code: verdict "not_valid", reason "unknown_code".', "Verification"
                        ),
                        "429": _json_response("Too many requests from this client; see Retry-After.", "Error"),
                    },
                }
            },
            "/api/verify/pdf/": {
                "post": {
                    "operationId": "verifyPdf",
                    "summary": "The verdict on a PDF file: signature, changes after signing, and the document",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["pdf"],
                                    "properties": {"pdf": {"type": "string", "contentMediaType": "application/pdf"}},
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _json_response(
                            "The file was checked (whatever its verdict). It is not stored.", "PdfVerification"
                        ),
                        "400": _json_response("No PDF, not a PDF, or larger than 5 MB.", "Error"),
                        "429": _json_response("Too many uploads from this client; see Retry-After.", "Error"),
                    },
                }
            },
        },
        "components": {
            "schemas": {
                "Verification": VERIFICATION_SCHEMA,
                "PdfVerification": PDF_VERIFICATION_SCHEMA,
                "Error": ERROR_SCHEMA,
            }
        },
    }
