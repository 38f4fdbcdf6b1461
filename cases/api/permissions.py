"""API permission classes on top of cases.permissions."""

from rest_framework.permissions import BasePermission

from cases.permissions import can_view, is_supervisor, role_of


class IsAgent(BasePermission):
    """Any caremgr role (agent, supervisor, admin)."""

    message = "you need an agent, supervisor or admin role"

    def has_permission(self, request, view) -> bool:
        return role_of(request.user) is not None


class IsSupervisor(BasePermission):
    message = "supervisors and admins only"

    def has_permission(self, request, view) -> bool:
        return is_supervisor(request.user)


class CanViewCase(IsAgent):
    def has_object_permission(self, request, view, obj) -> bool:
        return can_view(request.user, obj)
