"""The PDF report loads nothing from outside the document, whatever the HTML names: an archived
text that got through as markup must not make the PDF embed a local file or call the network."""

from __future__ import annotations

import base64

import pytest

from guard.report import write_pdf
from tests.cli.test_records_request import _pdf_tools_missing

# A 1×1 PNG: if WeasyPrint fetched it, the PDF would hold an image XObject.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


@pytest.mark.skipif(_pdf_tools_missing() is not None, reason=str(_pdf_tools_missing()))
def test_the_pdf_embeds_no_file_the_html_names(tmp_path):
    image = tmp_path / "secret.png"
    image.write_bytes(PNG)
    html = (
        f'<html><body><p>before</p><img src="{image.as_uri()}">'
        f'<div style="background: url({image.as_uri()}); height: 10mm"></div>'
        '<img src="secret.png"><p>after</p></body></html>'
    )
    target = tmp_path / "report.pdf"
    write_pdf(html, target)
    pdf = target.read_bytes()
    assert pdf.startswith(b"%PDF") and b"/Image" not in pdf
