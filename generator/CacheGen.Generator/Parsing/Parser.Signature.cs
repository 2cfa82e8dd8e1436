using System.Collections.Generic;
using System.Linq;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator.Parsing;

// The method's shape: its return type, its parameters, and the core method the generated code calls.
internal sealed partial class Parser
{
    private ReturnShape? ClassifyReturn(out string? resultType)
    {
        resultType = null;
        if (_method.ReturnsByRef || _method.ReturnsByRefReadonly)
        {
            Report(DiagnosticDescriptors.UncachableReturnType, _syntax.ReturnType, MethodName, "a reference (ref return)");
            return null;
        }
        if (_method.ReturnsVoid)
            return ReturnShape.Void;
        ITypeSymbol type = _method.ReturnType;
        if (type is INamedTypeSymbol named)
        {
            INamedTypeSymbol original = named.OriginalDefinition;
            if (SymbolEqualityComparer.Default.Equals(named, _known.Task))
                return ReturnShape.Task;
            if (SymbolEqualityComparer.Default.Equals(named, _known.ValueTask))
                return ReturnShape.ValueTask;
            if (SymbolEqualityComparer.Default.Equals(original, _known.TaskOfT))
            {
                resultType = named.TypeArguments[0].ToDisplayString(TypeFormat);
                return ReturnShape.TaskOfT;
            }
            if (SymbolEqualityComparer.Default.Equals(original, _known.ValueTaskOfT))
            {
                resultType = named.TypeArguments[0].ToDisplayString(TypeFormat);
                return ReturnShape.ValueTaskOfT;
            }
        }
        if (type.IsRefLikeType || type is IPointerTypeSymbol or IFunctionPointerTypeSymbol)
        {
            Report(DiagnosticDescriptors.UncachableReturnType, _syntax.ReturnType, MethodName, type.ToDisplayString(MessageFormat));
            return null;
        }
        resultType = type.ToDisplayString(TypeFormat);
        return ReturnShape.Value;
    }

    /// <summary>
    /// Why a value of <paramref name="type"/> does its work after the method has returned it (so an eviction right
    /// after the call would come before the writes), or null when it is a plain value.
    /// </summary>
    private string? CompletesAfterReturning(ITypeSymbol type, string coreName)
    {
        if (IsAsyncSequence(type))
            return "an asynchronous sequence runs when it is enumerated";
        if (IsAwaitable(type))
            return "an awaitable completes when it is awaited";
        bool isSequence = type.SpecialType is SpecialType.System_Collections_IEnumerable or SpecialType.System_Collections_IEnumerator
            || type.OriginalDefinition.SpecialType is SpecialType.System_Collections_Generic_IEnumerable_T or SpecialType.System_Collections_Generic_IEnumerator_T;
        if (isSequence && _method.ContainingType.GetMembers(coreName).Any(m => m.DeclaringSyntaxReferences.Any(r =>
                r.GetSyntax(_cancellationToken) is MethodDeclarationSyntax core && core.DescendantNodes(IsOwnBody).OfType<YieldStatementSyntax>().Any())))
            return $"its core method '{coreName}' is an iterator, which runs when the sequence is enumerated";
        return null;
    }

    // A yield inside a local function or a lambda makes that function the iterator, not the core method.
    private static bool IsOwnBody(SyntaxNode node) => node is not (LocalFunctionStatementSyntax or AnonymousFunctionExpressionSyntax);

    private static bool IsAsyncSequence(ITypeSymbol type) =>
        type is INamedTypeSymbol { IsGenericType: true } generic
        && generic.OriginalDefinition.ToDisplayString() is "System.Collections.Generic.IAsyncEnumerable<T>" or "System.Collections.Generic.IAsyncEnumerator<T>";

    // Task, ValueTask and their generic forms are classified before this is asked.
    private static bool IsAwaitable(ITypeSymbol type) =>
        type.GetMembers("GetAwaiter").OfType<IMethodSymbol>().Any(m => !m.IsStatic && m.Parameters.Length == 0 && m.DeclaredAccessibility == Accessibility.Public);

    private ITypeSymbol? CachedValueType(ReturnShape shape) => shape switch
    {
        ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT => ((INamedTypeSymbol)_method.ReturnType).TypeArguments[0],
        ReturnShape.Value => _method.ReturnType,
        _ => null,
    };

    // The T of Task<T>/ValueTask<T> as written, so the squiggle sits under the type to change.
    private SyntaxNode CachedValueSyntax(ReturnShape shape)
    {
        TypeSyntax returnType = _syntax.ReturnType;
        SimpleNameSyntax? name = returnType switch
        {
            QualifiedNameSyntax qualified => qualified.Right,
            AliasQualifiedNameSyntax alias => alias.Name,
            SimpleNameSyntax simple => simple,
            _ => null,
        };
        return shape is ReturnShape.TaskOfT or ReturnShape.ValueTaskOfT && name is GenericNameSyntax { TypeArgumentList.Arguments.Count: 1 } generic
            ? generic.TypeArgumentList.Arguments[0]
            : returnType;
    }

    /// <summary>
    /// Whether the runtime hands one cached instance to every caller (the rule of CacheGen.Redis's ImmutableType):
    /// strings, value types without references, sealed types marked [ImmutableObject(true)], and read-only collection
    /// interfaces of those. A type parameter is decided per instantiation at run time, so it is not reported.
    /// </summary>
    private static bool IsSharedOnHit(ITypeSymbol type)
    {
        if (type is ITypeParameterSymbol || type.TypeKind == TypeKind.Error)
            return true;
        if (type.SpecialType == SpecialType.System_String)
            return true;
        // A struct whose fields hold no references is copied on return, so sharing it is safe.
        if (type.IsValueType)
            return UnderlyingIfNullable(type).IsUnmanagedType;
        if (ReadOnlyCollectionElement(type) is { } element)
            return element is not ITypeParameterSymbol && IsSharedOnHit(element);
        return type.IsSealed && IsMarkedImmutable(type);
    }

    /// <summary>What would make <paramref name="type"/> shared on a hit, naming only what it lacks.</summary>
    private static string SharingAdvice(ITypeSymbol type)
    {
        if (ReadOnlyCollectionElement(type) is { } element && element is not ITypeParameterSymbol)
            return $"make its element type '{element.ToDisplayString(MessageFormat)}' shareable ({SharingAdvice(element)})";
        if (type is INamedTypeSymbol { TypeKind: TypeKind.Class, SpecialType: SpecialType.None } named && !IsCollection(named))
        {
            bool marked = IsMarkedImmutable(named);
            string what = (named.IsSealed, marked) switch
            {
                (false, false) => "make it sealed and mark it [ImmutableObject(true)]",
                (false, true) => "make it sealed (a subclass could add mutable state)",
                _ => "mark it [ImmutableObject(true)]",
            };
            return what + ", or return a JsonPayload";
        }
        if (type.IsValueType)
            return "return a struct without reference fields, a sealed [ImmutableObject(true)] type, or a JsonPayload";
        return "return an IReadOnlyList<T> of a sealed [ImmutableObject(true)] type, or a JsonPayload";
    }

    private static ITypeSymbol? ReadOnlyCollectionElement(ITypeSymbol type) =>
        type is INamedTypeSymbol { TypeKind: TypeKind.Interface, IsGenericType: true } collection
        && collection.OriginalDefinition.SpecialType is SpecialType.System_Collections_Generic_IReadOnlyList_T
            or SpecialType.System_Collections_Generic_IReadOnlyCollection_T or SpecialType.System_Collections_Generic_IEnumerable_T
            ? collection.TypeArguments[0]
            : null;

    private static bool IsCollection(INamedTypeSymbol type) =>
        type.AllInterfaces.Any(i => i.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T);

    private static bool IsMarkedImmutable(ITypeSymbol type) =>
        type.GetAttributes().Any(a =>
            a.AttributeClass?.ToDisplayString() == "System.ComponentModel.ImmutableObjectAttribute"
            && a.ConstructorArguments.Length == 1 && a.ConstructorArguments[0].Value is true);

    private void CheckParameters()
    {
        for (int i = 0; i < _method.Parameters.Length; i++)
        {
            IParameterSymbol parameter = _method.Parameters[i];
            string? problem = parameter.RefKind switch
            {
                RefKind.Ref => "a 'ref' parameter",
                RefKind.Out => "an 'out' parameter",
                RefKind.In => "an 'in' parameter",
                RefKind.None => null,
                _ => "a 'ref readonly' parameter",
            };
            problem ??= parameter.Type is IPointerTypeSymbol or IFunctionPointerTypeSymbol ? "a pointer"
                : parameter.Type.IsRefLikeType ? $"a ref struct ('{parameter.Type.ToDisplayString(MessageFormat)}')"
                : null;
            if (problem is not null)
                Report(DiagnosticDescriptors.UnsupportedParameter, ParameterSyntax(i), parameter.Name, MethodName, problem);
        }
        // 'this' is an implicit parameter: a ref struct cannot be carried into the cache's factory or an async method.
        if (!_method.IsStatic && _method.ContainingType.IsRefLikeType)
            Report(DiagnosticDescriptors.UnsupportedParameter, _syntax.Identifier, "this", MethodName,
                $"a ref struct ('{_method.ContainingType.ToDisplayString(MessageFormat)}')");
    }

    private ParameterModel ParameterModelOf(IParameterSymbol parameter, int index)
    {
        string modifier = parameter.IsParams ? "params " : index == 0 && _method.IsExtensionMethod ? "this " : "";
        modifier += parameter.RefKind switch
        {
            RefKind.Ref => "ref ",
            RefKind.Out => "out ",
            RefKind.In => "in ",
            RefKind.None => "",
            _ => "ref readonly ",
        };
        return new ParameterModel(Escape(parameter.Name), parameter.Type.ToDisplayString(TypeFormat), modifier, IsCancellationToken(parameter.Type));
    }

    private bool IsCancellationToken(ITypeSymbol type) => SymbolEqualityComparer.Default.Equals(type, _known.CancellationToken);

    internal static string? ConstraintClause(ITypeParameterSymbol parameter)
    {
        var parts = new List<string>();
        if (parameter.HasReferenceTypeConstraint)
            parts.Add(parameter.ReferenceTypeConstraintNullableAnnotation == NullableAnnotation.Annotated ? "class?" : "class");
        else if (parameter.HasUnmanagedTypeConstraint)
            parts.Add("unmanaged");
        else if (parameter.HasValueTypeConstraint)
            parts.Add("struct");
        else if (parameter.HasNotNullConstraint)
            parts.Add("notnull");
        foreach (ITypeSymbol constraint in parameter.ConstraintTypes)
            parts.Add(constraint.ToDisplayString(TypeFormat));
        if (parameter.HasConstructorConstraint)
            parts.Add("new()");
        return parts.Count == 0 ? null : $"where {parameter.Name} : {string.Join(", ", parts)}";
    }

    // ---- core method --------------------------------------------------------------------------------------------

    private void CheckCoreMethod(string coreName)
    {
        var candidates = new List<IMethodSymbol>();
        for (INamedTypeSymbol? type = _method.ContainingType; type is not null; type = type.BaseType)
        {
            foreach (ISymbol member in type.GetMembers(coreName))
            {
                if (member is IMethodSymbol method && _compilation.IsSymbolAccessibleWithin(method, _method.ContainingType))
                    candidates.Add(method);
            }
        }
        // The expected signature (display strings) is built only when a diagnostic needs it.
        if (candidates.Count == 0 && IsDecoratorMember)
        {
            CheckInnerCore();
            return;
        }
        if (candidates.Count == 0)
        {
            Report(DiagnosticDescriptors.MissingCoreMethod, _syntax.Identifier, MethodName, coreName, ExpectedCoreSignature(coreName));
            return;
        }
        if (candidates.Any(c => IsOrContainsErrorType(c.ReturnType) || c.Parameters.Any(p => IsOrContainsErrorType(p.Type))))
        {
            _metErrorType = true;
            return;
        }
        if (!candidates.Any(Matches))
            Report(DiagnosticDescriptors.CoreMethodSignatureMismatch, _syntax.Identifier, coreName, MethodName, ExpectedCoreSignature(coreName));
    }

    private bool Matches(IMethodSymbol core) =>
        core.IsStatic == _method.IsStatic && SignatureMatch.SameParametersAndReturnType(core, _method);

    private string ExpectedCoreSignature(string coreName)
    {
        string typeParameters = _method.TypeParameters.Length == 0 ? "" : "<" + string.Join(", ", _method.TypeParameters.Select(t => t.Name)) + ">";
        string parameters = string.Join(", ", _method.Parameters.Select(p => p.Type.ToDisplayString(MessageFormat) + " " + p.Name));
        return $"private {(_method.IsStatic ? "static " : "")}{_method.ReturnType.ToDisplayString(MessageFormat)} {coreName}{typeParameters}({parameters})";
    }
}
