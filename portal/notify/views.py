"""The message centre's pages (/me/messages/): the list, one message (opening it marks it read), mark all read."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import inbox

PER_PAGE = 20


@login_required
@never_cache
def message_list(request):
    page = Paginator(inbox.messages_for(request.user), PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/messages/list.html", {"page_obj": page, "messages_page": page.object_list})


@login_required
@never_cache
def message_detail(request, pk: int):
    message = inbox.open_message(request.user, pk)
    if message is None:  # another user's message answers exactly like one that does not exist
        raise Http404
    return render(request, "portal/messages/detail.html", {"message": message})


@login_required
@require_POST
def mark_all_read(request):
    count = inbox.mark_all_read(request.user)
    if count:
        flash.success(request, _("All messages are marked as read."))
    return redirect("notify:list")
