from rest_framework.routers import DefaultRouter

from .views import CustomerIdentityViewSet, CustomerNoteViewSet, CustomerViewSet, OrganizationViewSet

app_name = "contacts-api"

router = DefaultRouter()
# DefaultRouter's root view would claim /api/v1/ for this app alone; the other apps share that prefix.
router.include_root_view = False
router.register("customers", CustomerViewSet, basename="customer")
router.register(r"customers/(?P<customer_id>[^/]+)/identities", CustomerIdentityViewSet, basename="customer-identity")
router.register(r"customers/(?P<customer_id>[^/]+)/notes", CustomerNoteViewSet, basename="customer-note")
router.register("organizations", OrganizationViewSet, basename="organization")

urlpatterns = router.urls
