using System.Collections.Generic;
using System.Linq;
using CacheGen.Generator.Diagnostics;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Parsing;

/// <summary>
/// What the compiler can tell about a cached value type that would not read back from the cache as it was written,
/// given that the runtime serializes values with System.Text.Json's default options: a type it cannot construct,
/// get-only data no constructor parameter restores, fields (value tuple items are fields) and dictionary keys it
/// cannot write as property names. It walks the property and element types too, once per type.
/// </summary>
internal sealed class RoundTripCheck
{
    /// <summary>Past this many types the walk stops: a huge object graph is not worth the IDE's time.</summary>
    private const int MaximumTypes = 200;

    private static readonly SymbolDisplayFormat MessageFormat = SymbolDisplayFormat.MinimallyQualifiedFormat;

    private readonly HashSet<ITypeSymbol> _seen = new(SymbolEqualityComparer.Default);
    private readonly List<(DiagnosticDescriptor Descriptor, string[] Arguments)> _problems = new();

    /// <summary>The problems found, each with its descriptor and the message arguments after the method and value type.</summary>
    public static List<(DiagnosticDescriptor Descriptor, string[] Arguments)> Check(ITypeSymbol valueType)
    {
        var check = new RoundTripCheck();
        check.Visit(valueType);
        return check._problems;
    }

    private void Visit(ITypeSymbol type)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
            type = nullable.TypeArguments[0];
        if (type.TypeKind is TypeKind.Error or TypeKind.TypeParameter or TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.Enum or TypeKind.Dynamic
            || type.SpecialType != SpecialType.None || _seen.Count >= MaximumTypes || !_seen.Add(type))
            return;

        if (type is IArrayTypeSymbol array)
        {
            Visit(array.ElementType);
            return;
        }
        if (type is not INamedTypeSymbol named)
            return;
        if (named.IsTupleType)
        {
            Report(DiagnosticDescriptors.FieldsNotSerialized, $"'{named.ToDisplayString(MessageFormat)}' is a value tuple, whose items are fields", "every item");
            return;
        }
        if (DictionaryTypes(named) is { } dictionary)
        {
            if (!IsSupportedKey(dictionary.Key))
                Report(DiagnosticDescriptors.UnsupportedDictionaryKey, dictionary.Key.ToDisplayString(MessageFormat), named.ToDisplayString(MessageFormat));
            Visit(dictionary.Value);
            return;
        }
        if (ElementType(named) is { } element)
        {
            Visit(element);
            return;
        }
        if (IsFrameworkType(named) || named.TypeKind is not (TypeKind.Class or TypeKind.Struct) || named.IsAbstract || IsJsonPayload(named))
            return;

        // A struct is created through its default constructor unless another is marked [JsonConstructor].
        IMethodSymbol? constructor = named.TypeKind == TypeKind.Class
            ? ConstructorFor(named)
            : named.InstanceConstructors.FirstOrDefault(c => HasAttribute(c, "JsonConstructorAttribute"));
        var members = new List<ITypeSymbol>();
        var names = new HashSet<string>();
        for (INamedTypeSymbol? current = named; current is not null && !IsFrameworkType(current); current = current.BaseType)
        {
            foreach (ISymbol member in current.GetMembers())
            {
                if (member.IsStatic || member.IsImplicitlyDeclared || member.DeclaredAccessibility != Accessibility.Public
                    || HasAttribute(member, "JsonIgnoreAttribute") || !names.Add(member.Name))
                    continue;
                if (member is IPropertySymbol { IsIndexer: false, GetMethod.DeclaredAccessibility: Accessibility.Public } property)
                {
                    members.Add(property.Type);
                    CheckProperty(named, property, constructor);
                }
                else if (member is IFieldSymbol { IsConst: false } field)
                {
                    if (HasAttribute(field, "JsonIncludeAttribute"))
                    {
                        members.Add(field.Type);
                        continue;
                    }
                    Report(DiagnosticDescriptors.FieldsNotSerialized, $"'{named.Name}.{field.Name}' is a public field", $"'{field.Name}'");
                }
            }
        }
        foreach (ITypeSymbol member in members)
            Visit(member);
    }

    /// <summary>The constructor System.Text.Json uses to create <paramref name="type"/>, or null (reported) when it has none.</summary>
    private IMethodSymbol? ConstructorFor(INamedTypeSymbol type)
    {
        IMethodSymbol? marked = type.InstanceConstructors.FirstOrDefault(c => HasAttribute(c, "JsonConstructorAttribute"));
        if (marked is not null)
            return marked;
        var visible = type.InstanceConstructors.Where(c => c.DeclaredAccessibility == Accessibility.Public).ToList();
        IMethodSymbol? parameterless = visible.FirstOrDefault(c => c.Parameters.Length == 0);
        if (parameterless is not null)
            return parameterless;
        if (visible.Count == 1)
            return visible[0];
        string why = visible.Count == 0
            ? "it has no public constructor"
            : $"it has {visible.Count} public constructors, none of them parameterless or marked [JsonConstructor]";
        Report(DiagnosticDescriptors.NoDeserializationConstructor, type.ToDisplayString(MessageFormat), why);
        return null;
    }

    private void CheckProperty(INamedTypeSymbol type, IPropertySymbol property, IMethodSymbol? constructor)
    {
        bool settable = property.SetMethod is { DeclaredAccessibility: Accessibility.Public } || HasAttribute(property, "JsonIncludeAttribute");
        if (settable || !IsStored(property))
            return; // a computed property is derived from the others, so nothing is lost
        if (InitializerRestores(type, property, constructor))
            return;
        if (constructor is not null && constructor.Parameters.Any(p => string.Equals(p.Name, property.Name, System.StringComparison.OrdinalIgnoreCase)))
            return;
        if (constructor is null && type.TypeKind == TypeKind.Class)
            return; // already reported: without a constructor there is nothing to restore it through
        Report(DiagnosticDescriptors.GetOnlyPropertyNotRestored, $"{type.Name}.{property.Name}", property.Name);
    }

    /// <summary>Whether the property keeps its own state (an auto-property), rather than computing it from others.</summary>
    private static bool IsStored(IPropertySymbol property) =>
        property.ContainingType.GetMembers().OfType<IFieldSymbol>().Any(f =>
            SymbolEqualityComparer.Default.Equals(f.AssociatedSymbol, property) || f.Name == "<" + property.Name + ">k__BackingField");

    /// <summary>
    /// Whether a get-only property's initializer gives it its value again when System.Text.Json constructs the object:
    /// a class's initializers run in the constructor, so the value comes back unless it changed later (only a
    /// collection's contents can, behind a get-only property) or depends on a constructor parameter that the JSON does
    /// not supply (one without a property of its name, or of another constructor).
    /// </summary>
    private static bool InitializerRestores(INamedTypeSymbol type, IPropertySymbol property, IMethodSymbol? constructor)
    {
        if (type.TypeKind != TypeKind.Class || property.SetMethod is not null || property.Type is IArrayTypeSymbol
            || ElementType(property.Type as INamedTypeSymbol) is not null)
            return false;
        var initializer = property.DeclaringSyntaxReferences
            .Select(r => r.GetSyntax())
            .OfType<Microsoft.CodeAnalysis.CSharp.Syntax.PropertyDeclarationSyntax>()
            .FirstOrDefault(p => p.Initializer is not null)?.Initializer;
        if (initializer is null)
            return false;
        var constructorParameters = new HashSet<string>(type.InstanceConstructors.SelectMany(c => c.Parameters).Select(p => p.Name));
        var propertyNames = new HashSet<string>(type.GetMembers().OfType<IPropertySymbol>().Select(p => p.Name), System.StringComparer.OrdinalIgnoreCase);
        foreach (var identifier in initializer.DescendantNodesAndSelf().OfType<Microsoft.CodeAnalysis.CSharp.Syntax.IdentifierNameSyntax>())
        {
            string name = identifier.Identifier.ValueText;
            if (!constructorParameters.Contains(name))
                continue;
            bool supplied = constructor is not null && constructor.Parameters.Any(p => p.Name == name) && propertyNames.Contains(name);
            if (!supplied)
                return false;
        }
        return true;
    }

    private static (ITypeSymbol Key, ITypeSymbol Value)? DictionaryTypes(INamedTypeSymbol type)
    {
        foreach (INamedTypeSymbol candidate in new[] { type }.Concat(type.AllInterfaces))
        {
            if (candidate is { Arity: 2, Name: "IDictionary" or "IReadOnlyDictionary" }
                && candidate.ContainingNamespace.ToDisplayString() == "System.Collections.Generic")
                return (candidate.TypeArguments[0], candidate.TypeArguments[1]);
        }
        return null;
    }

    private static ITypeSymbol? ElementType(INamedTypeSymbol? type)
    {
        if (type is null || type.SpecialType == SpecialType.System_String)
            return null;
        if (type.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T)
            return type.TypeArguments[0];
        return type.AllInterfaces.FirstOrDefault(i => i.OriginalDefinition.SpecialType == SpecialType.System_Collections_Generic_IEnumerable_T)?.TypeArguments[0];
    }

    // The key types System.Text.Json writes as property names.
    private static bool IsSupportedKey(ITypeSymbol key)
    {
        if (key is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
            key = nullable.TypeArguments[0];
        if (key.TypeKind is TypeKind.Enum or TypeKind.TypeParameter or TypeKind.Error)
            return true;
        if (key.SpecialType is SpecialType.System_String or SpecialType.System_Object or SpecialType.System_Boolean or SpecialType.System_Char
            or SpecialType.System_Byte or SpecialType.System_SByte or SpecialType.System_Int16 or SpecialType.System_UInt16
            or SpecialType.System_Int32 or SpecialType.System_UInt32 or SpecialType.System_Int64 or SpecialType.System_UInt64
            or SpecialType.System_Single or SpecialType.System_Double or SpecialType.System_Decimal or SpecialType.System_DateTime)
            return true;
        return key is INamedTypeSymbol { Arity: 0, ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true } } system
            && system.Name is "Guid" or "DateTimeOffset" or "DateOnly" or "TimeOnly" or "TimeSpan" or "Half" or "Int128" or "UInt128" or "Uri" or "Version";
    }

    private static bool IsFrameworkType(INamedTypeSymbol type)
    {
        INamespaceSymbol? outermost = type.ContainingNamespace;
        while (outermost is { ContainingNamespace.IsGlobalNamespace: false })
            outermost = outermost.ContainingNamespace;
        return outermost?.Name is "System" or "Microsoft";
    }

    private static bool IsJsonPayload(INamedTypeSymbol type) =>
        type is { Name: "JsonPayload", ContainingNamespace: { Name: "CacheGen", ContainingNamespace.IsGlobalNamespace: true } };

    private static bool HasAttribute(ISymbol symbol, string name) =>
        symbol.GetAttributes().Any(a => a.AttributeClass is { } c && c.Name == name && c.ContainingNamespace.ToDisplayString() == "System.Text.Json.Serialization");

    private void Report(DiagnosticDescriptor descriptor, params string[] arguments)
    {
        if (!_problems.Any(p => p.Descriptor == descriptor && p.Arguments.SequenceEqual(arguments)))
            _problems.Add((descriptor, arguments));
    }
}
