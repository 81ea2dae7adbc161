import pytest
from tests.certificates.test_tasks import *  # noqa

def test_dbg(station_a, settings):
    application = approved(station_a, holder_name="王小明", reason=Reason.ABROAD, destination_country="新西兰")
    tasks.generate_certificate(application.pk, 1)
    document = IssuedDocument.objects.get()
    data = (settings.MEDIA_ROOT / "private" / document.file.name).read_bytes()
    open("/tmp/ncr_cert.pdf","wb").write(data)
    print(len(PdfReader(io.BytesIO(data)).pages))
