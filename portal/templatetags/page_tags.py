"""Template tags of the common page (templates/page.html)."""

from django import template
from django.template.loader_tags import BLOCK_CONTEXT_KEY
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def block_again(context, name: str) -> SafeString:
    """The block `name` as the page being rendered fills it in, rendered once more here: page.html heads a page with
    its title, so that a page whose heading is its title says it once (a page with another heading fills that in)."""
    block = context.render_context[BLOCK_CONTEXT_KEY].get_block(name)
    with context.push():
        return block.nodelist.render(context)
