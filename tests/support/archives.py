"""Archives built in memory for upload tests."""
import io
import zipfile


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A deflated zip holding `files` (member name -> content)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()
