from pydantic_settings import SettingsConfigDict

from shared.geo import Limits
from shared.settings import ServiceSettings


class AoiSettings(ServiceSettings):
    """Settings of the aoi service (env prefix AOI_; DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS unprefixed).

    The import limits default to ``shared.geo.Limits`` (docs/domain.md, AOI rules: limits are configurable).
    """

    model_config = SettingsConfigDict(env_prefix="AOI_", extra="ignore")
    port: int = 8101

    # import limits (each refusal names the limit)
    max_upload_bytes: int = Limits.max_upload_bytes
    max_uncompressed_bytes: int = Limits.max_uncompressed_bytes
    max_compression_ratio: float = Limits.max_compression_ratio
    max_parts: int = Limits.max_parts
    max_vertices: int = Limits.max_vertices
    max_total_area_km2: float = Limits.max_total_area_km2
    max_archive_depth: int = Limits.max_archive_depth

    # inputs up to this size are imported on the event loop (cheaper than a process hop);
    # larger ones (and archives) go to the import worker processes so the loop keeps serving
    inline_import_bytes: int = 16 * 1024
    # worker processes for imports, and how many more imports may wait for one (then 503)
    import_workers: int = 2
    import_queue: int = 4

    # overlap query: a query geometry whose bounding box is larger than this is pre-filtered by the
    # bbox columns instead of the H3 index (a continent-sized viewport would need too many cells)
    h3_query_max_km2: float = 500_000.0
    query_max_vertices: int = 10_000
    list_default_limit: int = 50
    list_max_limit: int = 500

    def limits(self) -> Limits:
        return Limits(max_upload_bytes=self.max_upload_bytes,
                      max_uncompressed_bytes=self.max_uncompressed_bytes,
                      max_compression_ratio=self.max_compression_ratio, max_parts=self.max_parts,
                      max_vertices=self.max_vertices, max_total_area_km2=self.max_total_area_km2,
                      max_archive_depth=self.max_archive_depth)
