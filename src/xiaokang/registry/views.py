from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def household_list(request):
    return HttpResponse("todo")


@login_required
def household_detail(request, pk):
    return HttpResponse("todo")
