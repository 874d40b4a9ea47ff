//! The `#[gateway]` attribute of `roomcast-gateway`: it reads an impl block — the handlers
//! marked `#[subscribe_message("event")]`, the lifecycle hooks, the guards, filters and
//! interceptors — and writes the gateway's `Declaration` with the public builder of
//! `roomcast-gateway`, so that what it generates is what hand-written code would write.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Error, Expr, FnArg, Ident, ImplItem, ImplItemFn, ItemImpl, LitStr, Path, ReturnType,
    Token, Type,
};

/// Declares a gateway from an impl block (NestJS's `@WebSocketGateway` class).
///
/// On the impl block: `#[gateway]` (namespace `/`), `#[gateway(namespace = "/chat")]`,
/// `#[gateway(namespace = regex("^/org-[a-z]+$"))]`, `#[gateway(namespace = predicate(f))]`,
/// with `use_guards(..)`, `connection_guards(..)`, `use_filters(..)`, `use_interceptors(..)`
/// (each a list of expressions, which may use `self`). On its methods: `#[subscribe_message("event")]` with
/// `#[use_guards(..)]`, `#[use_filters(..)]`, `#[use_interceptors(..)]`; and the lifecycle
/// hooks `#[after_init]`, `#[handle_connection]`, `#[handle_disconnect]`.
#[proc_macro_attribute]
pub fn gateway(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = syn::parse_macro_input!(attr as GatewayOptions);
    let block = syn::parse_macro_input!(item as ItemImpl);
    match expand(options, block) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

/// The namespace of the gateway.
enum NamespaceOption {
    Name(LitStr),
    Regex(LitStr),
    Predicate(Path),
}

/// What `#[gateway(...)]` says.
#[derive(Default)]
struct GatewayOptions {
    namespace: Option<NamespaceOption>,
    guards: Vec<Expr>,
    connection_guards: Vec<Expr>,
    filters: Vec<Expr>,
    interceptors: Vec<Expr>,
}

fn expr_list(input: ParseStream<'_>) -> syn::Result<Vec<Expr>> {
    let content;
    syn::parenthesized!(content in input);
    let list = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
    Ok(list.into_iter().collect())
}

impl Parse for GatewayOptions {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut options = GatewayOptions::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            match key.to_string().as_str() {
                "namespace" => {
                    if options.namespace.is_some() {
                        return Err(Error::new(key.span(), "the namespace is given twice"));
                    }
                    input.parse::<Token![=]>()?;
                    options.namespace = Some(if input.peek(LitStr) {
                        NamespaceOption::Name(input.parse()?)
                    } else {
                        let kind: Ident = input.parse()?;
                        let content;
                        syn::parenthesized!(content in input);
                        match kind.to_string().as_str() {
                            "regex" => NamespaceOption::Regex(content.parse()?),
                            "predicate" => NamespaceOption::Predicate(content.parse()?),
                            _ => {
                                return Err(Error::new(
                                    kind.span(),
                                    "a namespace is \"/name\", regex(\"pattern\") or predicate(path::to::fn)",
                                ))
                            }
                        }
                    });
                }
                "use_guards" => options.guards.extend(expr_list(input)?),
                "connection_guards" => options.connection_guards.extend(expr_list(input)?),
                "use_filters" => options.filters.extend(expr_list(input)?),
                "use_interceptors" => options.interceptors.extend(expr_list(input)?),
                _ => {
                    return Err(Error::new(
                        key.span(),
                        "unknown gateway option; expected namespace, use_guards, \
                         connection_guards, use_filters or use_interceptors",
                    ))
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(options)
    }
}

/// A lifecycle hook.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Hook {
    AfterInit,
    HandleConnection,
    HandleDisconnect,
}

impl Hook {
    fn attribute(self) -> &'static str {
        match self {
            Hook::AfterInit => "after_init",
            Hook::HandleConnection => "handle_connection",
            Hook::HandleDisconnect => "handle_disconnect",
        }
    }

    fn params(self) -> usize {
        match self {
            Hook::AfterInit | Hook::HandleConnection => 1,
            Hook::HandleDisconnect => 2,
        }
    }

    fn expected(self) -> &'static str {
        match self {
            Hook::AfterInit => "async fn after_init(&self, nsp: Namespace)",
            Hook::HandleConnection => "async fn handle_connection(&self, socket: Socket)",
            Hook::HandleDisconnect => {
                "async fn handle_disconnect(&self, socket: Socket, reason: DisconnectReason)"
            }
        }
    }
}

/// What the attributes of one method say.
#[derive(Default)]
struct MethodOptions {
    event: Option<LitStr>,
    hook: Option<(Hook, Span)>,
    guards: Vec<Expr>,
    filters: Vec<Expr>,
    interceptors: Vec<Expr>,
}

const METHOD_ATTRIBUTES: [&str; 7] = [
    "subscribe_message",
    "use_guards",
    "use_filters",
    "use_interceptors",
    "after_init",
    "handle_connection",
    "handle_disconnect",
];

fn is_ours(attr: &Attribute) -> bool {
    METHOD_ATTRIBUTES
        .iter()
        .any(|name| attr.path().is_ident(name))
}

fn list_of(attr: &Attribute) -> syn::Result<Vec<Expr>> {
    let list = attr.parse_args_with(Punctuated::<Expr, Token![,]>::parse_terminated)?;
    Ok(list.into_iter().collect())
}

/// Reads and removes this crate's attributes of a method.
fn method_options(method: &mut ImplItemFn) -> syn::Result<MethodOptions> {
    let mut options = MethodOptions::default();
    let mut kept = Vec::new();
    for attr in method.attrs.drain(..) {
        if !is_ours(&attr) {
            kept.push(attr);
            continue;
        }
        let path = attr.path();
        let hook = if path.is_ident("after_init") {
            Some(Hook::AfterInit)
        } else if path.is_ident("handle_connection") {
            Some(Hook::HandleConnection)
        } else if path.is_ident("handle_disconnect") {
            Some(Hook::HandleDisconnect)
        } else {
            None
        };
        if let Some(hook) = hook {
            if options.hook.is_some() || options.event.is_some() {
                return Err(Error::new(
                    attr.span(),
                    "a method is one handler or one lifecycle hook",
                ));
            }
            options.hook = Some((hook, attr.span()));
        } else if path.is_ident("subscribe_message") {
            if options.hook.is_some() || options.event.is_some() {
                return Err(Error::new(
                    attr.span(),
                    "a method is one handler or one lifecycle hook",
                ));
            }
            let event: LitStr = attr.parse_args().map_err(|_| {
                Error::new(
                    attr.span(),
                    "expected the event name: #[subscribe_message(\"event\")]",
                )
            })?;
            if event.value().is_empty() {
                return Err(Error::new(event.span(), "the event name is empty"));
            }
            options.event = Some(event);
        } else if path.is_ident("use_guards") {
            options.guards.extend(list_of(&attr)?);
        } else if path.is_ident("use_filters") {
            options.filters.extend(list_of(&attr)?);
        } else if path.is_ident("use_interceptors") {
            options.interceptors.extend(list_of(&attr)?);
        }
    }
    method.attrs = kept;
    let attached = !options.guards.is_empty()
        || !options.filters.is_empty()
        || !options.interceptors.is_empty();
    if attached && options.event.is_none() {
        return Err(Error::new(
            method.sig.ident.span(),
            "use_guards, use_filters and use_interceptors go with #[subscribe_message(\"event\")]",
        ));
    }
    Ok(options)
}

/// The types of a method's parameters after `&self`, checking the shape every handler and
/// hook shares: an `async fn` taking `&self`, not generic.
fn params(method: &ImplItemFn, what: &str) -> syn::Result<Vec<Type>> {
    let sig = &method.sig;
    if sig.asyncness.is_none() {
        return Err(Error::new(
            sig.fn_token.span(),
            format!("a gateway {what} is an async fn"),
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(Error::new(
            sig.generics.span(),
            format!("a gateway {what} cannot be generic"),
        ));
    }
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(FnArg::Receiver(receiver))
            if receiver.reference.is_some() && receiver.mutability.is_none() =>
        {
            Ok(())
        }
        Some(other) => Err(Error::new(
            other.span(),
            format!("a gateway {what} takes &self first"),
        )),
        None => Err(Error::new(
            sig.ident.span(),
            format!("a gateway {what} takes &self first"),
        )),
    }?;
    inputs
        .map(|input| match input {
            FnArg::Typed(typed) => Ok((*typed.ty).clone()),
            FnArg::Receiver(receiver) => Err(Error::new(receiver.span(), "unexpected receiver")),
        })
        .collect()
}

/// Whether the method returns a `Result` (by its written type's last segment).
fn returns_result(method: &ImplItemFn) -> bool {
    match &method.sig.output {
        ReturnType::Default => false,
        ReturnType::Type(_, ty) => match &**ty {
            Type::Path(path) => path
                .path
                .segments
                .last()
                .is_some_and(|segment| segment.ident == "Result"),
            _ => false,
        },
    }
}

/// `call`, as a `Result`: written as it is when the method returns one, else in `Ok`.
fn as_result(method: &ImplItemFn, call: Tokens) -> Tokens {
    if returns_result(method) {
        call
    } else {
        quote! { ::core::result::Result::<_, ::core::convert::Infallible>::Ok(#call) }
    }
}

fn expand(options: GatewayOptions, mut block: ItemImpl) -> syn::Result<Tokens> {
    if let Some((_, path, _)) = &block.trait_ {
        return Err(Error::new(
            path.span(),
            "#[gateway] goes on the inherent impl block of the gateway type",
        ));
    }
    let name = match &*block.self_ty {
        Type::Path(path) => path
            .path
            .segments
            .last()
            .map(|segment| segment.ident.to_string()),
        _ => None,
    }
    .ok_or_else(|| Error::new(block.self_ty.span(), "a gateway is a named type"))?;
    let krate = quote! { ::roomcast_gateway };
    let arc = quote! { ::std::sync::Arc<Self> };

    let mut chain = Vec::new();
    // One check per handler parameter, spanned on its type: a type that is no parameter is
    // named where it is written.
    let mut checks = Vec::new();
    let mut events: Vec<LitStr> = Vec::new();
    let mut hooks: Vec<Hook> = Vec::new();
    for item in &mut block.items {
        let ImplItem::Fn(method) = item else {
            continue;
        };
        let options = method_options(method)?;
        let ident = &method.sig.ident;
        if let Some((hook, span)) = options.hook {
            if hooks.contains(&hook) {
                return Err(Error::new(
                    span,
                    format!("#[{}] is given twice", hook.attribute()),
                ));
            }
            hooks.push(hook);
            let types = params(method, "lifecycle hook")?;
            if types.len() != hook.params() {
                return Err(Error::new(
                    method.sig.inputs.span(),
                    format!("#[{}] expects {}", hook.attribute(), hook.expected()),
                ));
            }
            let args: Vec<Ident> = (0..types.len()).map(|i| format_ident!("__p{i}")).collect();
            let call = quote! { __gateway.#ident(#(#args),*).await };
            chain.push(match hook {
                Hook::AfterInit => quote_spanned! {span=>
                    .on_init(|__gateway: #arc, #(#args: #types),*| async move { #call })
                },
                Hook::HandleConnection => {
                    let call = as_result(method, call);
                    quote_spanned! {span=>
                        .on_connection(|__gateway: #arc, #(#args: #types),*| async move { #call })
                    }
                }
                Hook::HandleDisconnect => quote_spanned! {span=>
                    .on_disconnect(|__gateway: #arc, #(#args: #types),*| async move { #call })
                },
            });
            continue;
        }
        let Some(event) = options.event else {
            continue;
        };
        if let Some(first) = events.iter().find(|seen| seen.value() == event.value()) {
            let mut error = Error::new(
                event.span(),
                format!("\"{}\" is handled twice", event.value()),
            );
            error.combine(Error::new(first.span(), "first handled here"));
            return Err(error);
        }
        events.push(event.clone());
        let types = params(method, "handler")?;
        if types.len() > 8 {
            return Err(Error::new(
                method.sig.inputs.span(),
                "a gateway handler takes at most eight parameters after &self",
            ));
        }
        for ty in &types {
            checks.push(quote_spanned! {ty.span()=>
                #krate::__private::parameter::<#ty>();
            });
        }
        let args: Vec<Ident> = (0..types.len()).map(|i| format_ident!("__p{i}")).collect();
        let call = as_result(method, quote! { __gateway.#ident(#(#args),*).await });
        let guards = &options.guards;
        let filters = &options.filters;
        let interceptors = &options.interceptors;
        let span = event.span();
        chain.push(quote_spanned! {span=>
            .route(#event, #krate::Route::new(|__gateway: #arc, #(#args: #types),*| async move { #call })
                #(.guard(#guards))*
                #(.filter(#filters))*
                #(.interceptor(#interceptors))*)
        });
    }

    let namespace = match options.namespace {
        None => quote! { #krate::NamespaceSpec::name("/") },
        Some(NamespaceOption::Name(name)) => {
            if !name.value().starts_with('/') {
                return Err(Error::new(name.span(), "a namespace name starts with /"));
            }
            quote! { #krate::NamespaceSpec::name(#name) }
        }
        Some(NamespaceOption::Regex(pattern)) => quote! { #krate::NamespaceSpec::regex(#pattern) },
        Some(NamespaceOption::Predicate(path)) => {
            quote! { #krate::NamespaceSpec::predicate(#path) }
        }
    };
    let guards = &options.guards;
    let connection_guards = &options.connection_guards;
    let filters = &options.filters;
    let interceptors = &options.interceptors;
    let (impl_generics, _, where_clause) = block.generics.split_for_impl();
    let self_ty = &block.self_ty;
    Ok(quote! {
        #block

        impl #impl_generics #krate::Gateway for #self_ty #where_clause {
            fn declare(&self) -> #krate::Declaration<Self> {
                #(#checks)*
                #krate::Declaration::new(#name, #namespace)
                    #(.guard(#guards))*
                    #(.connection_guard(#connection_guards))*
                    #(.filter(#filters))*
                    #(.interceptor(#interceptors))*
                    #(#chain)*
            }
        }
    })
}
