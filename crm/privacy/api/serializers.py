"""Shapes of the data-protection API."""

from rest_framework import serializers

from config.api.serializers import OutputModelSerializer

from ..models import ErasureRequest, ExportRequest


class ExportOutputSerializer(OutputModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportRequest
        fields = ["id", "customer", "status", "progress", "size", "download_url", "expires_at", "downloaded_at"]

    def get_download_url(self, export) -> str | None:
        return self.context.get("download_url")


class ErasureInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, allow_blank=False)
    immediately = serializers.BooleanField(default=False)


class ErasureOutputSerializer(OutputModelSerializer):
    class Meta:
        model = ErasureRequest
        fields = ["id", "customer", "status", "reason", "immediately", "due_at", "steps_done", "finished_at"]
