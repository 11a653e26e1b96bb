//! Forms: a field with its message, the errors of an action, a form that empties itself once
//! it succeeds, and a destructive button that asks first.

use leptos::prelude::*;

use crate::error::AppError;

/// The error of an action's last run, if it failed.
pub fn action_error<I, O>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// A form that empties itself once its action succeeds, so a second click cannot submit the
/// same values again (a duplicate source, a password left in its field). Without JavaScript
/// the page after the redirect is new, and so are its forms.
pub fn reset_on_success<I, O>(action: ServerAction<I>) -> NodeRef<leptos::html::Form>
where
    I: server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        let succeeded = action.value().with(|v| matches!(v, Some(Ok(_))));
        if succeeded && let Some(form) = form.get_untracked() {
            form.reset();
        }
    });
    form
}

/// A destructive button that asks first: `label` opens a question with the button that does it.
/// A `<details>`, so it works before and without the wasm.
#[component]
pub fn Confirm(#[prop(into)] label: String, question: String, children: Children) -> impl IntoView {
    view! {
        <details class="confirm">
            <summary class="button small danger">{label.clone()}</summary>
            <div class="confirm-body" role="group" aria-label=label>
                <p>{question}</p>
                {children()}
            </div>
        </details>
    }
}

/// A labelled form field: the label, the input given as children (its `id` must be `id`), an
/// optional hint, and the error for this field when the form's last submission had one.
#[component]
pub fn Field(
    label: &'static str,
    id: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional, into)] error: Option<Signal<Option<AppError>>>,
    children: Children,
) -> impl IntoView {
    let message = move || {
        error
            .and_then(|e| e.get())
            .and_then(|err| err.for_field(id).map(str::to_owned))
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {children()}
            {hint.map(|hint| view! { <small class="hint">{hint}</small> })}
            {move || message().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </div>
    }
}

/// A message about the whole form, such as a wrong password or a throttled login.
#[component]
pub fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error.get().filter(AppError::is_general).map(|err| {
            view! { <p class="form-error" role="alert">{err.to_string()}</p> }
        })
    }
}

/// Any error of a form that is only a button: it has no field to put a message beside.
#[component]
pub fn ButtonError(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|err| view! { <p class="form-error" role="alert">{err.to_string()}</p> })
    }
}
