from django.core.management.base import BaseCommand, CommandError

from jianguan.core.boundaries import BoundaryImportError, import_geojson


class Command(BaseCommand):
    help = "Replace the approximate jurisdiction boundaries with real ones from a GeoJSON FeatureCollection."

    def add_arguments(self, parser):
        parser.add_argument("geojson", help="path to a FeatureCollection with a division code per feature")

    def handle(self, *args, geojson, **options):
        try:
            report = import_geojson(geojson)
        except BoundaryImportError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"已更新 {len(report.updated)} 个区划边界：{', '.join(report.updated) or '无'}")
        if report.unknown_codes:
            self.stdout.write(f"未知区划代码（已忽略）：{', '.join(report.unknown_codes)}")
        for line in report.skipped:
            self.stdout.write(self.style.WARNING(f"跳过：{line}"))
