"""Account URLs under /accounts/ (stable, printed in letters and e-mails: docs/architecture.md#stable-urls)."""

from django.urls import path

from . import address, views

app_name = "accounts"
urlpatterns = [
    path("register/", views.register, name="register"),
    path("welcome/", views.welcome, name="welcome"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/done/", views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/confirm/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("password/reset/complete/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("divisions/<str:code>/", address.divisions_json, name="divisions"),
    path("profile/", views.profile, name="profile"),
    path("profile/resend-email/", views.resend_email, name="resend_email"),
    path("profile/resend-sms/", views.resend_sms, name="resend_sms"),
    path("profile/report-misuse/", views.report_misuse, name="report_misuse"),
    path("confirm-email/<str:token>/", views.confirm_email, name="confirm_email"),
    path("confirm-mobile/", views.confirm_mobile, name="confirm_mobile"),
    path("my-data/", views.my_data, name="my_data"),
    path("verify-identity/", views.verify_identity, name="verify_identity"),
    path("gov-sign-in/", views.oidc_start, name="oidc_start"),
    path("gov-sign-in/callback/", views.oidc_callback, name="oidc_callback"),
    path("gov-sign-in/account/", views.oidc_account, name="oidc_account"),
    path("password/reset/sms/", views.password_reset_sms, name="password_reset_sms"),
    path("password/reset/sms/confirm/", views.password_reset_sms_confirm, name="password_reset_sms_confirm"),
]
