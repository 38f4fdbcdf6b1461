"""Admin for configuration: tiers and SLA targets, teams and hours, agents, routing rules,
canned replies and the knowledge base; cases are read here, worked in the inbox."""

from django.contrib import admin

from cases.models import (
    AgentProfile,
    BusinessHours,
    CannedReply,
    Case,
    CaseEvent,
    KnowledgeArticle,
    RoutingRule,
    Team,
    Tier,
)
from security.admin import ReadOnlyAdmin


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "name",
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "warning_percent",
        "is_automated",
        "survey",
    ]
    list_editable = [
        "first_response_minutes",
        "next_response_minutes",
        "resolution_minutes",
        "warning_percent",
    ]


class BusinessHoursInline(admin.TabularInline):
    model = BusinessHours
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "strategy", "timezone"]
    list_editable = ["strategy"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [BusinessHoursInline]


@admin.register(AgentProfile)
class AgentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "capacity", "presence"]
    list_filter = ["role", "presence", "teams"]
    list_editable = ["role", "capacity"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    filter_horizontal = ["teams"]
    list_select_related = ["user"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    change_list_template = "admin/cases/routingrule_changelist.html"

    def get_urls(self):
        from django.urls import path

        from cases.rule_tester import test_rules

        tester = path("test/", self.admin_site.admin_view(test_rules), name="cases_rule_tester")
        return [tester, *super().get_urls()]

    list_display = [
        "position",
        "name",
        "is_active",
        "set_tier",
        "set_team",
        "priority_floor",
        "add_tag",
        "stop_processing",
    ]
    list_display_links = ["name"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "set_tier", "set_team"]
    search_fields = ["name", "keywords"]


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["title", "shortcut", "language", "team"]
    list_filter = ["language", "team"]
    search_fields = ["title", "text", "shortcut"]


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "language", "is_active"]
    list_editable = ["is_active"]
    list_filter = ["language", "is_active"]
    search_fields = ["title", "body", "keywords"]


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ["at", "kind", "actor", "before", "after", "text", "is_automatic"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: every change to a case goes through its operations (inbox or API), so
    the timeline stays the complete audit log."""

    list_display = [
        "id",
        "account",
        "contact",
        "status",
        "priority",
        "tier",
        "team",
        "assignee",
        "created_at",
    ]
    list_filter = ["status", "priority", "tier", "team", "account"]
    search_fields = ["contact__handle", "last_message_preview"]
    list_select_related = ["account", "contact", "tier", "team", "assignee"]
    inlines = [CaseEventInline]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    """Every timeline entry of every case, read-only: who reassigned, re-prioritised,
    merged or closed what, findable by person, kind and time."""

    list_display = ["at", "kind", "case", "actor", "before", "after", "is_automatic"]
    list_filter = ["kind", "is_automatic", ("actor", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["actor__username", "before", "after"]
    date_hierarchy = "at"
    list_select_related = ["actor", "case"]
    raw_id_fields = ["case", "message"]
