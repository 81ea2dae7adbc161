from django.shortcuts import render


def index(request):
    """The service guide: who may apply, materials, time limits and legal basis."""
    return render(request, "familyplanning/index.html")
