namespace CacheGen.Generator.Model;

/// <summary>
/// Everything the decorator emitter needs to write the generated part of one <c>[CacheDecorator]</c> class, as plain
/// equatable data: the interface it implements, the members it forwards, the core methods it supplies and the
/// arguments of the factory registration calls.
/// </summary>
internal sealed record DecoratorModel(
    string HintName,
    string? Namespace,
    EquatableArray<ContainingTypeModel> ContainingTypes,
    string DecoratorType,
    string ServiceType,
    string InnerName,
    EquatableArray<ConstructorArgument> ConstructorArguments,
    EquatableArray<ForwardedMember> Members,
    EquatableArray<InnerCore> Cores);

/// <summary>
/// A constructor argument of the generated factory: the inner service, or a service of <see cref="Type"/> (required
/// unless <see cref="Optional"/>: a parameter with a null default).
/// </summary>
internal sealed record ConstructorArgument(bool IsInner, string Type, bool Optional);

internal enum ForwardedKind
{
    Method,
    Property,
    Indexer,
    Event,
}

/// <summary>
/// An interface member the user did not declare, implemented explicitly by forwarding to <see cref="Target"/>: the
/// inner service (cast to <see cref="Interface"/> when it is inherited, so members of the same name in two interfaces
/// stay apart) or <c>this</c> for a method the class declares without making it public. <see cref="HasInit"/>: the
/// property's setter is an <c>init</c> accessor.
/// </summary>
internal sealed record ForwardedMember(
    ForwardedKind Kind,
    string Interface,
    string Name,
    string Type,
    string RefKind,
    string TypeParameterList,
    EquatableArray<string> Constraints,
    EquatableArray<ParameterModel> Parameters,
    bool HasGet,
    bool HasSet,
    string Target,
    bool HasInit = false);

/// <summary>The core method of an attributed method the user wrote no core for: a call of the inner service's member.</summary>
internal sealed record InnerCore(
    string ReturnType,
    string CoreName,
    string MemberName,
    string TypeParameterList,
    EquatableArray<string> Constraints,
    EquatableArray<ParameterModel> Parameters,
    string Target);

/// <summary>What the decorator step makes of one class: the model to emit (if any) and the errors to report.</summary>
internal sealed record DecoratorResult(DecoratorModel? Model, EquatableArray<DiagnosticInfo> Diagnostics);
