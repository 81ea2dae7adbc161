from django.apps import AppConfig


class TestappConfig(AppConfig):
    """A concrete case model for testing the shared machinery; installed only under pytest."""

    name = "tests.testapp"
    label = "testapp"

    def ready(self):
        from accounts.models import Office
        from portal import registry

        from .models import SampleCase

        def cases_for_user(user):
            return [c.summary() for c in SampleCase.objects.filter(applicant=user)]

        def track(case_number, second_factor):
            case = SampleCase.objects.filter(case_number=case_number).select_related("applicant").first()
            if case and second_factor in (case.applicant.real_name, (case.applicant.id_number or "")[-4:]):
                return case.summary()
            return None

        registry.register(
            registry.Service(
                key="testapp",
                title="Sample service",
                summary="Only in tests.",
                url_name="home",
                agency=Office.Agency.PUBLIC_SECURITY,
                order=999,
                case_models=(SampleCase,),
                cases_for_user=cases_for_user,
                track=track,
            )
        )
