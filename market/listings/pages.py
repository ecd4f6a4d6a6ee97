"""The pages of a listing kind (browse and search, detail, create, edit), registered on the kind's blueprint."""
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.errors import DomainError
from market.extensions import db
from market.formtools import EmptyForm, apply_errors
from market.listings import access, editing, queries, services, suggestions
from market.listings.forms import AttachmentUploadForm, ListingForm, field_choices
from market.listings.vocabulary import ListingStatus, TransferMode
from market.security import can_manage_listing, roles_required
from market.taxonomy import services as taxonomy
from market.unit_of_work import savepoint


@dataclass(frozen=True)
class ListingPages:
    """What a kind's pages differ in: its write path, form, URL id name, templates folder and authors' roles."""

    listing_type: editing.ListingType
    form_class: type[ListingForm]
    id_name: str
    templates: str
    author_roles: tuple
    facets: Callable[[], dict] = field(default=lambda: {"stages": [], "modes": list(TransferMode)})
    """The filter values the browse page offers."""


def register_listing_pages(bp: Blueprint, pages: ListingPages) -> None:
    """Add browse (""), detail ("/<id>"), create ("/new") and edit ("/<id>/edit") to the kind's blueprint."""
    kind = pages.listing_type.kind

    def detail_url(listing_id: int) -> str:
        return url_for(f"{bp.name}.detail", **{pages.id_name: listing_id})

    def make_form() -> ListingForm:
        form = pages.form_class()
        form.field.choices = field_choices(taxonomy.list_fields(db.session))
        return form

    def submitted() -> bool:
        return request.form.get("action") == "submit"

    def edit_page(form: ListingForm, listing):
        status = 422 if form.errors or getattr(form, "form_errors", None) else 200
        return render_template(f"{pages.templates}/edit.html", form=form, listing=listing), status

    def browse():
        """Search and filter published listings of the kind (the sidebar and results are page fragments kept for
        every viewer, so their data is computed only when a fragment is rendered)."""
        params, errors = queries.parse_search_args(request.args)
        result = queries.search_listings(db.session, kind, params)

        def choices():
            fields = taxonomy.list_fields(db.session)
            facets = pages.facets()
            return (suggestions.field_facet(fields, result.facets.get("field_code", {}), params.field),
                    taxonomy.list_valleys(db.session), facets["stages"], facets["modes"])

        def zero_help():
            if result.total:
                return None
            return suggestions.zero_result_help(db.session, kind, params, result, taxonomy.list_fields(db.session))

        return render_template(f"{pages.templates}/browse.html", result=result, params=params, errors=errors,
                               browse_choices=choices, zero_result_help=zero_help)

    def detail(**view_args):
        """One listing; the confidential part for its organisation, admins and grantees who accepted the statement."""
        listing = services.get_listing(db.session, current_user, kind, view_args[pages.id_name])
        manager = can_manage_listing(current_user, listing)
        signed_in = current_user.is_authenticated
        standing = access.confidential_standing(db.session, current_user, listing)
        return render_template(
            f"{pages.templates}/detail.html", listing=listing, manager=manager,
            confidential=standing.can_open, awaiting_grant=standing.awaiting,
            grants=access.list_grants(db.session, current_user, listing),
            statement_version=access.CONFIDENTIALITY_STATEMENT_VERSION,
            field_path=lambda: taxonomy.field_path(listing.field),
            attachments=services.list_attachments(db.session, current_user, listing, confidential=standing.can_open),
            history=services.list_history(db.session, listing) if manager else [],
            following=services.is_following(db.session, current_user, listing),
            action_form=EmptyForm() if signed_in else None,  # a form puts a token in the session: only for users
            upload_form=AttachmentUploadForm() if signed_in else None,
        )

    @login_required
    @roles_required(*pages.author_roles)
    def create():
        """List a new one (draft or straight to review)."""
        form = make_form()
        if not current_user.is_approved_member:
            flash(_("您的机构成员身份尚在审核中，审核通过后才能发布。"), "warning")
        if form.validate_on_submit():
            try:
                with savepoint():
                    listing = editing.create_listing(db.session, current_user, pages.listing_type,
                                                     form.to_service_data(), submit=submitted())
            except DomainError as error:
                apply_errors(form, error)
            else:
                flash(_("已提交审核。") if listing.status == ListingStatus.PENDING else _("草稿已保存。"), "success")
                return redirect(detail_url(listing.id))
        return edit_page(form, None)

    @login_required
    def edit(**view_args):
        """Edit a listing of one's organisation."""
        listing = services.get_managed_listing(db.session, current_user, kind, view_args[pages.id_name])
        form = make_form()
        if request.method == "GET":
            form.fill_from(listing)
        elif form.validate_on_submit():
            try:
                with savepoint():
                    editing.update_listing(db.session, current_user, pages.listing_type, listing.id,
                                           form.to_service_data(), submit=submitted())
            except DomainError as error:
                apply_errors(form, error)
            else:
                flash(_("修改已保存。"), "success")
                return redirect(detail_url(listing.id))
        return edit_page(form, listing)

    bp.add_url_rule("", "browse", browse)
    bp.add_url_rule(f"/<int:{pages.id_name}>", "detail", detail)
    bp.add_url_rule("/new", "create", create, methods=["GET", "POST"])
    bp.add_url_rule(f"/<int:{pages.id_name}>/edit", "edit", edit, methods=["GET", "POST"])
