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
/// Turns one <c>[CacheDecorator]</c> class into a <see cref="DecoratorModel"/> (plain data) and its errors: the
/// interface members it forwards, the core methods it supplies for attributed methods, the factory's arguments.
/// </summary>
internal static class DecoratorParser
{
    private static readonly SymbolDisplayFormat TypeFormat = SymbolDisplayFormat.FullyQualifiedFormat.AddMiscellaneousOptions(
        SymbolDisplayMiscellaneousOptions.IncludeNullableReferenceTypeModifier);

    private static readonly SymbolDisplayFormat MessageFormat = SymbolDisplayFormat.MinimallyQualifiedFormat;

    public static DecoratorResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var type = (INamedTypeSymbol)context.TargetSymbol;
        var syntax = (TypeDeclarationSyntax)context.TargetNode;
        var diagnostics = new List<DiagnosticInfo>();
        void Report(DiagnosticDescriptor descriptor, SyntaxNode? node, params string[] arguments) =>
            diagnostics.Add(new DiagnosticInfo(descriptor.Id, LocationInfo.From(node?.GetLocation() ?? syntax.Identifier.GetLocation()), arguments.ToEquatableArray()));
        DecoratorResult Fail() => new(null, diagnostics.ToEquatableArray());

        AttributeData attribute = context.Attributes[0];
        SyntaxNode? argument = (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) as AttributeSyntax)?.ArgumentList?.Arguments.FirstOrDefault();
        // Reported at each type that lacks the keyword: the one to fix.
        for (SyntaxNode? node = syntax; node is TypeDeclarationSyntax declaration; node = node.Parent)
        {
            if (!declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
                diagnostics.Add(new DiagnosticInfo(DiagnosticDescriptors.DecoratorNotPartial.Id, LocationInfo.From(declaration.Identifier.GetLocation()),
                    new[] { declaration.Identifier.Text, ServiceName(attribute) }.ToEquatableArray()));
        }
        if (diagnostics.Count > 0)
            return Fail();

        // typeof of a type the compiler cannot resolve is the user's C# error, already reported.
        if (attribute.ConstructorArguments.Length != 1 || attribute.ConstructorArguments[0].Value is not INamedTypeSymbol named || named.TypeKind == TypeKind.Error)
            return Fail();
        if (named.TypeKind != TypeKind.Interface)
        {
            Report(DiagnosticDescriptors.DecoratorNotInterface, argument, type.Name, named.ToDisplayString(MessageFormat));
            return Fail();
        }
        if (named.IsUnboundGenericType)
        {
            string example = named.Name + "<" + string.Join(", ", named.TypeParameters.Select(_ => "Post")) + ">";
            Report(DiagnosticDescriptors.DecoratorOpenGeneric, argument, type.Name, named.ToDisplayString(MessageFormat), example);
            return Fail();
        }
        INamedTypeSymbol service = named;

        IMethodSymbol? constructor = DecoratorInterface.PrimaryConstructor(type, cancellationToken);
        List<IParameterSymbol> inners = DecoratorInterface.InnerParameters(constructor, service);
        string? problem = type.IsStatic || type.IsAbstract ? " (an abstract or static class cannot be created)"
            : constructor is null ? " (it has no primary constructor)"
            : inners.Count == 0 ? " (it has none)"
            : inners.Count > 1 ? $" (it has {inners.Count}: {string.Join(", ", inners.Select(p => p.Name))})"
            : null;
        if (problem is not null)
        {
            Report(DiagnosticDescriptors.DecoratorInnerParameter, null, type.Name, service.ToDisplayString(MessageFormat), problem);
            return Fail();
        }
        IParameterSymbol inner = inners[0];
        string innerName = Parser.Escape(inner.Name);

        string Target(INamedTypeSymbol declaring) =>
            SymbolEqualityComparer.Default.Equals(declaring, service) ? innerName : $"(({declaring.ToDisplayString(TypeFormat)}){innerName})";

        var members = new List<ForwardedMember>();
        foreach ((INamedTypeSymbol declaring, ISymbol member) in DecoratorInterface.AbstractMembers(service))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (Forward(type, declaring, member, Target(declaring), inner.Name) is { } forwarded)
                members.Add(forwarded);
        }

        var cores = new List<InnerCore>();
        foreach (IMethodSymbol method in type.GetMembers().OfType<IMethodSymbol>())
        {
            if (method.PartialDefinitionPart is not null || !method.IsPartialDefinition || method.IsStatic || !HasCacheGenAttribute(method))
                continue;
            string coreName = KnownNames.CoreNameOf(method.Name);
            if (HasCoreMethod(type, coreName, context.SemanticModel.Compilation))
                continue;
            if (DecoratorInterface.MatchingMethod(service, method) is not { } match)
                continue; // CG0062, from the method's own step
            cores.Add(new InnerCore(
                ReturnType: method.ReturnsVoid ? "void" : method.ReturnType.ToDisplayString(TypeFormat),
                CoreName: coreName,
                MemberName: Parser.Escape(match.Method.Name),
                TypeParameterList: TypeParameterList(method),
                Constraints: method.TypeParameters.Select(Parser.ConstraintClause).Where(c => c is not null).Select(c => c!).ToEquatableArray(),
                Parameters: Parameters(method, inner.Name),
                Target: Target(match.Interface)));
        }

        var arguments = constructor!.Parameters.Select(p => new ConstructorArgument(
            IsInner: SymbolEqualityComparer.Default.Equals(p, inner),
            Type: p.Type.WithNullableAnnotation(NullableAnnotation.NotAnnotated).ToDisplayString(TypeFormat),
            Optional: p.HasExplicitDefaultValue && p.ExplicitDefaultValue is null && !p.Type.IsValueType)).ToEquatableArray();

        var model = new DecoratorModel(
            HintName: HintNameOf(type),
            Namespace: type.ContainingNamespace.IsGlobalNamespace ? null : type.ContainingNamespace.ToDisplayString(),
            ContainingTypes: ContainingTypeChain.Of(type, syntax, innermostIsUnsafe: false),
            DecoratorType: type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
            ServiceType: service.ToDisplayString(TypeFormat),
            InnerName: innerName,
            ConstructorArguments: arguments,
            Members: members.ToEquatableArray(),
            Cores: cores.ToEquatableArray());
        return new DecoratorResult(model, diagnostics.ToEquatableArray());
    }

    // Namespace and type, type parameters in braces: unique per class, and apart from the method files' names.
    private static string HintNameOf(INamedTypeSymbol type)
    {
        string name = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted));
        var hint = new System.Text.StringBuilder(name.Length);
        foreach (char c in name)
        {
            if (c != ' ')
                hint.Append(c switch { '<' => '{', '>' => '}', _ when char.IsLetterOrDigit(c) || c is '.' or '_' or ',' => c, _ => '_' });
        }
        return hint + ".CacheDecorator.g.cs";
    }

    private static string ServiceName(AttributeData attribute) =>
        attribute.ConstructorArguments.Length == 1 && attribute.ConstructorArguments[0].Value is ITypeSymbol t ? t.ToDisplayString(MessageFormat) : "the interface";

    private static bool HasCacheGenAttribute(IMethodSymbol method) =>
        method.GetAttributes().Any(a => a.AttributeClass?.ToDisplayString() is KnownNames.CachedAttribute or KnownNames.InvalidatesCacheAttribute
            or KnownNames.UpdatesCacheAttribute or KnownNames.CachedBatchAttribute);

    // The same candidates Parser.CheckCoreMethod looks at: a method of that name the type can call.
    private static bool HasCoreMethod(INamedTypeSymbol type, string coreName, Compilation compilation)
    {
        for (INamedTypeSymbol? current = type; current is not null; current = current.BaseType)
        {
            if (current.GetMembers(coreName).Any(m => m is IMethodSymbol && compilation.IsSymbolAccessibleWithin(m, type)))
                return true;
        }
        return false;
    }

    /// <summary>The explicit implementation of <paramref name="member"/>, or null when the class implements it itself.</summary>
    private static ForwardedMember? Forward(INamedTypeSymbol type, INamedTypeSymbol declaring, ISymbol member, string target, string innerName)
    {
        string @interface = declaring.ToDisplayString(TypeFormat);
        if (ImplementsExplicitly(type, member))
            return null;
        switch (member)
        {
            case IMethodSymbol { MethodKind: MethodKind.Ordinary } method:
            {
                IMethodSymbol? declared = type.GetMembers(method.Name).OfType<IMethodSymbol>()
                    .FirstOrDefault(m => !m.IsStatic && m.MethodKind == MethodKind.Ordinary && DecoratorInterface.SameSignature(method, m));
                if (declared is { DeclaredAccessibility: Accessibility.Public })
                    return null; // the class's own public method implements it
                return new ForwardedMember(ForwardedKind.Method, @interface, Parser.Escape(method.Name),
                    method.ReturnsVoid ? "void" : method.ReturnType.ToDisplayString(TypeFormat), RefKindOf(method.RefKind),
                    TypeParameterList(method), ExplicitConstraints(method), Parameters(method, innerName), HasGet: false, HasSet: false,
                    Target: declared is null ? target : "this");
            }
            case IPropertySymbol property:
            {
                bool declared = property.IsIndexer
                    ? type.GetMembers().OfType<IPropertySymbol>().Any(p => p.IsIndexer && !p.IsStatic && p.Parameters.Length == property.Parameters.Length
                        && p.Parameters.Zip(property.Parameters, (a, b) => SymbolEqualityComparer.Default.Equals(a.Type, b.Type)).All(same => same))
                    : type.GetMembers(property.Name).Any(m => m is IPropertySymbol { IsStatic: false });
                if (declared)
                    return null;
                return new ForwardedMember(property.IsIndexer ? ForwardedKind.Indexer : ForwardedKind.Property, @interface, Parser.Escape(property.Name),
                    property.Type.ToDisplayString(TypeFormat), RefKindOf(property.RefKind), "", EquatableArray<string>.Empty,
                    property.IsIndexer ? ParametersOf(property.Parameters, innerName) : EquatableArray<ParameterModel>.Empty,
                    HasGet: property.GetMethod is not null, HasSet: property.SetMethod is not null, Target: target,
                    HasInit: property.SetMethod is { IsInitOnly: true });
            }
            case IEventSymbol @event:
                if (type.GetMembers(@event.Name).Any(m => m is IEventSymbol { IsStatic: false }))
                    return null;
                return new ForwardedMember(ForwardedKind.Event, @interface, Parser.Escape(@event.Name), @event.Type.ToDisplayString(TypeFormat), "", "",
                    EquatableArray<string>.Empty, EquatableArray<ParameterModel>.Empty, HasGet: false, HasSet: false, Target: target);
            default:
                return null;
        }
    }

    private static bool ImplementsExplicitly(INamedTypeSymbol type, ISymbol member) =>
        type.GetMembers().Any(m => m switch
        {
            IMethodSymbol method => method.ExplicitInterfaceImplementations.Any(i => SymbolEqualityComparer.Default.Equals(i, member)),
            IPropertySymbol property => property.ExplicitInterfaceImplementations.Any(i => SymbolEqualityComparer.Default.Equals(i, member)),
            IEventSymbol @event => @event.ExplicitInterfaceImplementations.Any(i => SymbolEqualityComparer.Default.Equals(i, member)),
            _ => false,
        });

    private static string RefKindOf(RefKind refKind) => refKind switch
    {
        RefKind.Ref => "ref ",
        RefKind.RefReadOnly => "ref readonly ",
        _ => "",
    };

    private static string TypeParameterList(IMethodSymbol method) =>
        method.TypeParameters.Length == 0 ? "" : "<" + string.Join(", ", method.TypeParameters.Select(t => Parser.Escape(t.Name))) + ">";

    /// <summary>
    /// An explicit implementation inherits its constraints; it may only say how <c>T?</c> reads (C# 9): as a nullable
    /// reference (<c>class</c>), a <c>Nullable&lt;T&gt;</c> (<c>struct</c>) or either (<c>default</c>). Said only where
    /// the signature has a <c>T?</c>, where it is needed.
    /// </summary>
    private static EquatableArray<string> ExplicitConstraints(IMethodSymbol method)
    {
        var clauses = new List<string>();
        foreach (ITypeParameterSymbol parameter in method.TypeParameters)
        {
            bool annotated = new[] { method.ReturnType }.Concat(method.Parameters.Select(p => p.Type)).Any(t => MentionsAnnotated(t, parameter));
            if (!annotated)
                continue;
            string kind = parameter.HasReferenceTypeConstraint ? "class" : parameter.HasValueTypeConstraint ? "struct" : "default";
            clauses.Add($"where {Parser.Escape(parameter.Name)} : {kind}");
        }
        return clauses.ToEquatableArray();
    }

    private static bool MentionsAnnotated(ITypeSymbol type, ITypeParameterSymbol parameter) => type switch
    {
        ITypeParameterSymbol t => SymbolEqualityComparer.Default.Equals(t, parameter) && t.NullableAnnotation == NullableAnnotation.Annotated,
        INamedTypeSymbol { IsGenericType: true } n when n.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T =>
            SymbolEqualityComparer.Default.Equals(n.TypeArguments[0], parameter) || MentionsAnnotated(n.TypeArguments[0], parameter),
        INamedTypeSymbol n => n.TypeArguments.Any(a => MentionsAnnotated(a, parameter)),
        IArrayTypeSymbol a => MentionsAnnotated(a.ElementType, parameter),
        _ => false,
    };

    private static EquatableArray<ParameterModel> Parameters(IMethodSymbol method, string innerName) => ParametersOf(method.Parameters, innerName);

    // A parameter named like the inner service would hide it in the forwarding call: it is renamed there.
    private static EquatableArray<ParameterModel> ParametersOf(IEnumerable<IParameterSymbol> parameters, string innerName) =>
        parameters.Select(p =>
        {
            string modifier = (p.IsParams ? "params " : "") + p.RefKind switch
            {
                RefKind.Ref => "ref ",
                RefKind.Out => "out ",
                RefKind.In => "in ",
                RefKind.None => "",
                _ => "ref readonly ",
            };
            string name = p.Name == innerName || p.Name == "value" ? "__" + p.Name : p.Name;
            return new ParameterModel(Parser.Escape(name), p.Type.ToDisplayString(TypeFormat), modifier, IsCancellationToken: false);
        }).ToEquatableArray();
}
