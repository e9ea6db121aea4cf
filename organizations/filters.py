import django_filters

from .models import Unit


class UnitFilter(django_filters.FilterSet):
    parent_code = django_filters.CharFilter(field_name="parent__code")
    q = django_filters.CharFilter(method="filter_q", label="code or name contains")

    class Meta:
        model = Unit
        fields = ["kind", "category", "parent", "active"]

    def filter_q(self, queryset, name: str, value: str):
        from django.db.models import Q

        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))
