using System.Collections.Generic;
using System.Linq;
using System.Threading;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator.Parsing;

/// <summary>
/// Turns one attributed method (symbols and syntax) into a <see cref="MethodModel"/> and diagnostics (plain data).
/// Every misuse becomes a CGxxxx diagnostic; when the method can still be re-declared, a throwing stub is emitted
/// so the build shows only the CacheGen error, never a C# error inside generated code.
/// </summary>
internal sealed partial class Parser
{
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    // The method's identity in default keys and hint names: stable, readable, no nullability, no global::.
    private static readonly SymbolDisplayFormat SignatureFormat = new(
        globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        memberOptions: SymbolDisplayMemberOptions.IncludeContainingType | SymbolDisplayMemberOptions.IncludeParameters,
        parameterOptions: SymbolDisplayParameterOptions.IncludeType | SymbolDisplayParameterOptions.IncludeParamsRefOut,
        miscellaneousOptions: SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

    // The method's label for metrics and logs: type-qualified, no parameters (overloads share one), no global::.
    private static readonly SymbolDisplayFormat LabelFormat = new(
        globalNamespaceStyle: SymbolDisplayGlobalNamespaceStyle.Omitted,
        typeQualificationStyle: SymbolDisplayTypeQualificationStyle.NameAndContainingTypesAndNamespaces,
        genericsOptions: SymbolDisplayGenericsOptions.IncludeTypeParameters,
        memberOptions: SymbolDisplayMemberOptions.IncludeContainingType);

    private static readonly SymbolDisplayFormat HintFormat = SymbolDisplayFormat.MinimallyQualifiedFormat.RemoveMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static readonly SymbolDisplayFormat MessageFormat = SymbolDisplayFormat.MinimallyQualifiedFormat;

    private readonly CacheGenAttributes _attributes;
    private readonly IMethodSymbol _method;
    private readonly MethodDeclarationSyntax _syntax;
    private readonly Compilation _compilation;
    private readonly KnownTypes _known;
    private readonly CancellationToken _cancellationToken;
    private readonly List<DiagnosticInfo> _diagnostics = new();
    private readonly List<RegionUse> _regions = new();
    private readonly List<TemplateDeclaration> _templates = new();
    private readonly List<KeyTemplateUse> _keyUses = new();
    // The parameters the key and tag templates read, in the order first met: what a writing method must supply to
    // build this method's entry.
    private readonly List<IParameterSymbol> _usedParameters = new();
    private int _keyParameterCount;
    private readonly bool _includeWarnings;
    private bool _hasErrors;
    // Set when a check meets a type the compiler could not resolve: that is the user's C# error, already reported.
    private bool _metErrorType;

    private Parser(IMethodSymbol method, MethodDeclarationSyntax syntax, CacheGenAttributes attributes, Compilation compilation, bool includeWarnings,
        CancellationToken cancellationToken)
    {
        _includeWarnings = includeWarnings;
        _attributes = attributes;
        _method = method;
        _syntax = syntax;
        _compilation = compilation;
        _known = KnownTypes.For(_compilation);
        _cancellationToken = cancellationToken;
    }

    /// <summary>
    /// Parses the method declared by <paramref name="syntax"/> with the CacheGen attributes written on that declaration,
    /// as the generator sees it. <paramref name="includeWarnings"/> is false only for a method parsed again on behalf of
    /// another (a batch's target, say), whose own step reports its warnings once.
    /// </summary>
    public static ParseResult Parse(IMethodSymbol method, MethodDeclarationSyntax syntax, bool includeWarnings, Compilation compilation,
        CancellationToken cancellationToken)
    {
        CacheGenAttributes attributes = CacheGenAttributes.Of(method, syntax, KnownTypes.For(compilation));
        return attributes.IsEmpty
            ? ParseResult.None
            : new Parser(method, syntax, attributes, compilation, includeWarnings, cancellationToken).Parse();
    }

    // Each method is parsed by one step of the pipeline: [Cached] if it has it, else [UpdatesCache], else [InvalidatesCache].
    public static ParseResult ParseCached(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken) =>
        Parse((IMethodSymbol)context.TargetSymbol, (MethodDeclarationSyntax)context.TargetNode, includeWarnings: true, context.SemanticModel.Compilation, cancellationToken);

    public static ParseResult ParseUpdating(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken) =>
        HasAttribute(context, KnownNames.CachedAttribute)
            ? ParseResult.None
            : Parse((IMethodSymbol)context.TargetSymbol, (MethodDeclarationSyntax)context.TargetNode, includeWarnings: true, context.SemanticModel.Compilation, cancellationToken);

    public static ParseResult ParseInvalidating(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken) =>
        HasAttribute(context, KnownNames.CachedAttribute) || HasAttribute(context, KnownNames.UpdatesCacheAttribute)
            ? ParseResult.None
            : Parse((IMethodSymbol)context.TargetSymbol, (MethodDeclarationSyntax)context.TargetNode, includeWarnings: true, context.SemanticModel.Compilation, cancellationToken);

    private static bool HasAttribute(GeneratorAttributeSyntaxContext context, string metadataName)
    {
        CacheGenAttributes attributes = CacheGenAttributes.Of((IMethodSymbol)context.TargetSymbol, (MethodDeclarationSyntax)context.TargetNode,
            KnownTypes.For(context.SemanticModel.Compilation));
        return metadataName == KnownNames.CachedAttribute ? attributes.Cached is not null : attributes.Updates is not null;
    }

    private string MethodName => _method.Name;

    private ParseResult Parse()
    {
        bool isCached = _attributes.Cached is not null;
        if (isCached && (_attributes.Invalidates.Length > 0 || _attributes.Updates is not null))
            Report(DiagnosticDescriptors.CachedAndInvalidates, _syntax.Identifier, MethodName, _attributes.Updates is not null ? "UpdatesCache" : "InvalidatesCache");

        // A method we cannot re-declare gets no code at all: only the diagnostic.
        if (!CheckDeclaration())
            return Result(null);
        // A type the compiler cannot resolve is the user's error, reported at the user's code; an implementation
        // would have to repeat it, and every check below would only echo it.
        if (MentionsErrorType())
            return Result(null);

        ReturnShape? shape = ClassifyReturn(out string? resultType);
        CheckParameters();
        string coreName = KnownNames.CoreNameOf(MethodName);
        CheckCoreMethod(coreName);
        string cacheExpression = FindHybridCache();

        CachedModel? cached = null;
        InvalidationModel? invalidation = null;
        if (isCached)
        {
            if (shape is ReturnShape.Task or ReturnShape.ValueTask or ReturnShape.Void
                || (shape == ReturnShape.Value && (IsAsyncSequence(_method.ReturnType) || IsAwaitable(_method.ReturnType))))
                Report(DiagnosticDescriptors.UncachableReturnType, _syntax.ReturnType, MethodName, _method.ReturnType.ToDisplayString(MessageFormat));
            else if (_includeWarnings && shape is not null && CachedValueType(shape.Value) is { } valueType)
            {
                if (!IsSharedOnHit(valueType))
                    Report(DiagnosticDescriptors.UnsharedCachedType, CachedValueSyntax(shape.Value), MethodName, valueType.ToDisplayString(MessageFormat), SharingAdvice(valueType));
                foreach ((DiagnosticDescriptor descriptor, string[] arguments) in RoundTripCheck.Check(valueType))
                    Report(descriptor, CachedValueSyntax(shape.Value), new[] { MethodName, valueType.ToDisplayString(MessageFormat) }.Concat(arguments).ToArray());
            }
            cached = ParseCachedAttribute(_attributes.Cached!, shape is { } known ? CachedValueType(known) : null);
        }
        else
        {
            if (shape == ReturnShape.Value && CompletesAfterReturning(_method.ReturnType, coreName) is { } why)
                Report(DiagnosticDescriptors.InvalidationBeforeCompletion, _syntax.ReturnType, MethodName, _method.ReturnType.ToDisplayString(MessageFormat), why);
            invalidation = ParseWrites(shape);
        }

        MethodModel model = MethodModelOf(shape, resultType, coreName, cacheExpression, cached, invalidation, emitErrorStub: _hasErrors);
        return _metErrorType ? Result(null) : Result(model);
    }

    private bool MentionsErrorType() =>
        IsOrContainsErrorType(_method.ReturnType)
        || _method.Parameters.Any(p => IsOrContainsErrorType(p.Type))
        || _method.TypeParameters.Any(t => t.ConstraintTypes.Any(IsOrContainsErrorType))
        || _method.ContainingType.TypeParameters.Any(t => t.ConstraintTypes.Any(IsOrContainsErrorType));

    private static bool IsOrContainsErrorType(ITypeSymbol type) => type switch
    {
        { TypeKind: TypeKind.Error } => true,
        IArrayTypeSymbol array => IsOrContainsErrorType(array.ElementType),
        IPointerTypeSymbol pointer => IsOrContainsErrorType(pointer.PointedAtType),
        INamedTypeSymbol named => named.TypeArguments.Any(IsOrContainsErrorType) || (named.ContainingType is { } outer && IsOrContainsErrorType(outer)),
        _ => false,
    };

    private string Modifiers()
    {
        var modifiers = _syntax.Modifiers.Where(m => !m.IsKind(SyntaxKind.PartialKeyword) && !m.IsKind(SyntaxKind.AsyncKeyword)).Select(m => m.Text).ToList();
        return string.Join(" ", modifiers);
    }

    private ParseResult Result(MethodModel? model) =>
        new(model, _diagnostics.ToEquatableArray(), _regions.ToEquatableArray(), _templates.ToEquatableArray(), _keyUses.ToEquatableArray());

    // ---- declaration ---------------------------------------------------------------------------------------------

    private bool CheckDeclaration()
    {
        bool ok = true;
        bool isPartial = _syntax.Modifiers.Any(SyntaxKind.PartialKeyword);
        bool hasBody = _syntax.Body is not null || _syntax.ExpressionBody is not null;
        if (!isPartial || hasBody || HasHandWrittenImplementation())
        {
            string why = !isPartial ? " (it is not declared 'partial')"
                : hasBody ? " (this declaration has a body; put the logic in the core method)"
                : " (it already has an implementation part; remove it and put the logic in the core method)";
            Report(DiagnosticDescriptors.NotPartialDeclaration, _syntax.Identifier, MethodName, why, PartialDeclarationExample());
            ok = false;
        }
        for (SyntaxNode? node = _syntax.Parent; node is TypeDeclarationSyntax type; node = node.Parent)
        {
            if (!type.Modifiers.Any(SyntaxKind.PartialKeyword))
            {
                // A decorator's own step reports its types that are not partial (CG0063), once, not per method.
                if (!IsDecoratorMember)
                    Report(DiagnosticDescriptors.ContainingTypeNotPartial, type.Identifier, type.Identifier.Text, MethodName);
                ok = false;
            }
        }
        if (_syntax.Parent is not TypeDeclarationSyntax)
            ok = false;
        return ok;
    }

    /// <summary>The declaration the user should write, with the method's own modifiers, types and parameters.</summary>
    private string PartialDeclarationExample()
    {
        IEnumerable<string> modifiers = _syntax.Modifiers
            .Where(m => !m.IsKind(SyntaxKind.PartialKeyword) && !m.IsKind(SyntaxKind.AsyncKeyword) && !m.IsKind(SyntaxKind.ExternKeyword))
            .Select(m => m.Text);
        string returnType = _method.ReturnsVoid ? "void" : _method.ReturnType.ToDisplayString(MessageFormat);
        string typeParameters = _method.TypeParameters.Length == 0 ? "" : "<" + string.Join(", ", _method.TypeParameters.Select(t => t.Name)) + ">";
        string parameters = string.Join(", ", _method.Parameters.Select(p => p.Type.ToDisplayString(MessageFormat) + " " + p.Name));
        return string.Join(" ", modifiers.Concat(new[] { "partial", returnType, $"{MethodName}{typeParameters}({parameters});" }));
    }

    // The analyzer sees the compilation with the generated code in it, where the implementation part is ours.
    private bool HasHandWrittenImplementation() =>
        _method.PartialImplementationPart is { } implementation
        && !implementation.DeclaringSyntaxReferences.Any(r => r.GetSyntax(_cancellationToken) is MethodDeclarationSyntax declaration && IsGeneratedByCacheGen(declaration));

    internal static bool IsGeneratedByCacheGen(MethodDeclarationSyntax declaration) =>
        declaration.AttributeLists.SelectMany(l => l.Attributes).Any(a =>
            a.Name.ToString().EndsWith("GeneratedCode", System.StringComparison.Ordinal)
            && a.ArgumentList?.Arguments.FirstOrDefault()?.Expression is LiteralExpressionSyntax literal
            && literal.Token.ValueText == KnownNames.GeneratorName);

    /// <summary>The method as the emitter re-declares it; shared by [Cached], the writers and [CachedBatch].</summary>
    private MethodModel MethodModelOf(ReturnShape? shape, string? resultType, string coreName, string cacheExpression, CachedModel? cached,
        InvalidationModel? invalidation, bool emitErrorStub) => new(
        HintName: HintNameOf(_method),
        Namespace: _method.ContainingNamespace.IsGlobalNamespace ? null : _method.ContainingNamespace.ToDisplayString(),
        ContainingTypes: ContainingTypeChain.Of(_method.ContainingType, _syntax.Parent, innermostIsUnsafe: UsesPointers()),
        Modifiers: Modifiers(),
        ReturnType: _method.ReturnsVoid ? "void" : _method.ReturnType.ToDisplayString(TypeFormat),
        Shape: shape ?? ReturnShape.Value,
        ResultType: resultType,
        Name: _method.Name,
        TypeParameterList: _method.TypeParameters.Length == 0 ? "" : "<" + string.Join(", ", _method.TypeParameters.Select(t => t.Name)) + ">",
        Constraints: _method.TypeParameters.Select(ConstraintClause).Where(c => c is not null).Select(c => c!).ToEquatableArray(),
        Parameters: _method.Parameters.Select(ParameterModelOf).ToEquatableArray(),
        CoreName: coreName,
        CacheExpression: cacheExpression,
        IsStatic: _method.IsStatic,
        Cached: cached,
        Invalidation: invalidation,
        EmitErrorStub: emitErrorStub);

    private bool UsesPointers() =>
        _method.Parameters.Any(p => p.Type is IPointerTypeSymbol or IFunctionPointerTypeSymbol)
        || _method.ReturnType is IPointerTypeSymbol or IFunctionPointerTypeSymbol;

    // ---- helpers -----------------------------------------------------------------------------------------------

    private static T? NamedArgument<T>(AttributeData attribute, string name) =>
        NamedArgumentConstant(attribute, name) is { Value: T value } ? value : default;

    private static TypedConstant? NamedArgumentConstant(AttributeData attribute, string name)
    {
        foreach (KeyValuePair<string, TypedConstant> argument in attribute.NamedArguments)
        {
            if (argument.Key == name)
                return argument.Value;
        }
        return null;
    }

    /// <summary>The <paramref name="index"/>th element of an array argument (<c>["a", "b"]</c>, <c>new[] { ... }</c>).</summary>
    private static SyntaxNode? ElementSyntax(SyntaxNode? argument, int index)
    {
        ExpressionSyntax? expression = (argument as AttributeArgumentSyntax)?.Expression;
        IReadOnlyList<SyntaxNode>? elements = expression switch
        {
            CollectionExpressionSyntax collection => collection.Elements,
            ArrayCreationExpressionSyntax { Initializer: { } initializer } => initializer.Expressions,
            ImplicitArrayCreationExpressionSyntax creation => creation.Initializer.Expressions,
            _ => null,
        };
        return elements is not null && index < elements.Count ? elements[index] : null;
    }

    private static SyntaxNode? ArgumentSyntax(SyntaxNode? attribute, int index)
    {
        if (attribute is not AttributeSyntax { ArgumentList: { } list })
            return null;
        var positional = list.Arguments.Where(a => a.NameEquals is null && a.NameColon is null).ToList();
        return index < positional.Count ? positional[index] : null;
    }

    private static SyntaxNode? NamedArgumentSyntax(SyntaxNode? attribute, string name) =>
        attribute is AttributeSyntax { ArgumentList: { } list }
            ? list.Arguments.FirstOrDefault(a => a.NameEquals?.Name.Identifier.Text == name)
            : null;

    private SyntaxNode? ParameterSyntax(int index) =>
        index < _syntax.ParameterList.Parameters.Count ? _syntax.ParameterList.Parameters[index] : null;

    internal static string Escape(string identifier) =>
        SyntaxFacts.GetKeywordKind(identifier) != SyntaxKind.None ? "@" + identifier : identifier;

    /// <summary>
    /// A readable, unique file name: namespace, types and method, with parameter types (short names) telling
    /// overloads apart; very long signatures are cut and made unique with a hash of the full signature.
    /// </summary>
    internal static string HintNameOf(IMethodSymbol method)
    {
        string container = method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted));
        string parameters = string.Join(",", method.Parameters.Select(p => p.Type.ToDisplayString(HintFormat)));
        string typeParameters = method.TypeParameters.Length == 0 ? "" : "<" + string.Join(",", method.TypeParameters.Select(t => t.Name)) + ">";
        string readable = Sanitize($"{container}.{method.Name}{typeParameters}({parameters})");
        const int MaximumLength = 120;
        if (readable.Length > MaximumLength)
        {
            uint hash = 2166136261; // FNV-1a: stable across runs and platforms, unlike string.GetHashCode
            foreach (char c in method.ToDisplayString(SignatureFormat))
                hash = unchecked((hash ^ c) * 16777619);
            readable = readable.Substring(0, MaximumLength) + "-" + hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        }
        return readable + ".g.cs";
    }

    private static string Sanitize(string text)
    {
        var hint = new System.Text.StringBuilder(text.Length);
        foreach (char c in text)
        {
            if (c == ' ')
                continue;
            hint.Append(c switch
            {
                '<' => '{',
                '>' => '}',
                _ when char.IsLetterOrDigit(c) || c is '.' or '_' or ',' or '(' or ')' or '[' or ']' or '{' or '}' or '-' => c,
                _ => '_',
            });
        }
        return hint.ToString();
    }

    private void Report(DiagnosticDescriptor descriptor, SyntaxToken token, params string[] arguments) =>
        Report(descriptor, LocationInfo.From(token.GetLocation()), arguments);

    private void Report(DiagnosticDescriptor descriptor, SyntaxNode? node, params string[] arguments) =>
        Report(descriptor, LocationInfo.From(node) ?? LocationInfo.From(_syntax.Identifier.GetLocation()), arguments);

    private void Report(DiagnosticDescriptor descriptor, LocationInfo? location, string[] arguments)
    {
        if (!_includeWarnings && descriptor.DefaultSeverity != DiagnosticSeverity.Error)
            return;
        _diagnostics.Add(new DiagnosticInfo(descriptor.Id, location, arguments.ToEquatableArray()));
        if (descriptor.DefaultSeverity == DiagnosticSeverity.Error)
            _hasErrors = true;
    }
}
