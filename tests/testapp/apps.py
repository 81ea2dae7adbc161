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

        def find_for_track(case_number):
            case = SampleCase.objects.filter(case_number=case_number).select_related("applicant").first()
            if case is None:
                return None
            return registry.TrackedCase(
                summary=case.summary(), id_numbers=(case.applicant.id_number or "",), owner_ids=(case.applicant_id,)
            )

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
                find_for_track=find_for_track,
            )
        )
