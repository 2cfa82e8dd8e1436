using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;
using Microsoft.CodeAnalysis;

namespace CacheGen.Generator.Parsing;

/// <summary>
/// The shape of a cached value type as its JSON sees it, as a short stable text: its members' JSON names and types
/// (public properties and fields, [JsonPropertyName] honoured, [JsonIgnore] left out), nullable-ness, enum members and
/// their values, element and key types, through nested types. Members are ordered by name, never by declaration or
/// metadata order, and no assembly version or location enters it, so a build that did not change the type gives the
/// same fingerprint; adding, removing, renaming or retyping a member gives another. The runtime keeps entries of two
/// fingerprints apart (a rolling deploy of two builds on one Redis).
/// </summary>
internal sealed class ShapeFingerprint
{
    /// <summary>Past this many types the walk stops describing members: the fingerprint stays stable, only coarser.</summary>
    private const int MaximumTypes = 200;

    private static readonly SymbolDisplayFormat NameFormat = SymbolDisplayFormat.FullyQualifiedFormat
        .WithMiscellaneousOptions(SymbolDisplayMiscellaneousOptions.UseSpecialTypes);

    private readonly StringBuilder _text = new();
    private readonly HashSet<ITypeSymbol> _described = new(SymbolEqualityComparer.Default);

    /// <summary>The fingerprint of <paramref name="valueType"/>: 16 hex digits.</summary>
    public static string Of(ITypeSymbol valueType)
    {
        var shape = new ShapeFingerprint();
        shape.Describe(valueType, valueType.NullableAnnotation);
        return Fnv1a64(shape._text.ToString()).ToString("x16", CultureInfo.InvariantCulture);
    }

    private void Describe(ITypeSymbol type, NullableAnnotation annotation)
    {
        if (type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable)
        {
            _text.Append('?');
            type = nullable.TypeArguments[0];
        }
        else if (annotation == NullableAnnotation.Annotated && type.IsReferenceType)
            _text.Append('?');

        if (type is IArrayTypeSymbol array)
        {
            Describe(array.ElementType, array.ElementNullableAnnotation);
            _text.Append("[]");
            return;
        }
        if (type is not INamedTypeSymbol named)
        {
            _text.Append(type.ToDisplayString(NameFormat));
            return;
        }

        _text.Append(named.OriginalDefinition.ToDisplayString(NameFormat));
        if (named.TypeArguments.Length > 0)
        {
            _text.Append('<');
            for (int i = 0; i < named.TypeArguments.Length; i++)
            {
                if (i > 0)
                    _text.Append(',');
                Describe(named.TypeArguments[i], named.TypeArgumentNullableAnnotations[i]);
            }
            _text.Append('>');
        }
        // Framework types and JsonPayload (stored as its own bytes) have a fixed form; a type is described once
        // (recursive types end at their name).
        if (named.SpecialType != SpecialType.None || IsFrameworkType(named) || IsJsonPayload(named) || _described.Count >= MaximumTypes || !_described.Add(named))
            return;

        if (named.TypeKind == TypeKind.Enum)
        {
            _text.Append('[');
            foreach (IFieldSymbol member in named.GetMembers().OfType<IFieldSymbol>().Where(f => f.HasConstantValue).OrderBy(f => f.Name, System.StringComparer.Ordinal))
                _text.Append(member.Name).Append('=').Append(System.Convert.ToString(member.ConstantValue, CultureInfo.InvariantCulture)).Append(';');
            _text.Append(']');
            return;
        }

        var members = new SortedDictionary<string, (ITypeSymbol Type, NullableAnnotation Annotation, bool Required)>(System.StringComparer.Ordinal);
        for (INamedTypeSymbol? current = named; current is not null && !IsFrameworkType(current); current = current.BaseType)
        {
            foreach (ISymbol member in current.GetMembers())
            {
                if (member.IsStatic || member.IsImplicitlyDeclared || member.DeclaredAccessibility != Accessibility.Public || HasJsonAttribute(member, "JsonIgnoreAttribute"))
                    continue;
                (ITypeSymbol Type, NullableAnnotation Annotation, bool Required)? described = member switch
                {
                    IPropertySymbol { IsIndexer: false, GetMethod: not null } property => (property.Type, property.NullableAnnotation, property.IsRequired),
                    IFieldSymbol { IsConst: false } field => (field.Type, field.NullableAnnotation, field.IsRequired),
                    _ => null,
                };
                string name = JsonName(member);
                // A member hidden by a derived one ('new') is not what JSON writes: the first seen, the most derived, stays.
                if (described is { } found && !members.ContainsKey(name))
                    members.Add(name, found);
            }
        }
        _text.Append('{');
        foreach (KeyValuePair<string, (ITypeSymbol Type, NullableAnnotation Annotation, bool Required)> member in members)
        {
            _text.Append(member.Key).Append(member.Value.Required ? "!:" : ":");
            Describe(member.Value.Type, member.Value.Annotation);
            _text.Append(';');
        }
        _text.Append('}');
    }

    /// <summary>The member's name in the JSON: its [JsonPropertyName], else its own (the naming policy applies to every build alike).</summary>
    private static string JsonName(ISymbol member) =>
        member.GetAttributes().FirstOrDefault(a => IsJsonAttribute(a, "JsonPropertyNameAttribute")) is { ConstructorArguments.Length: 1 } named
            && named.ConstructorArguments[0].Value is string name
            ? "\"" + name + "\""
            : member.Name;

    private static bool HasJsonAttribute(ISymbol symbol, string name) => symbol.GetAttributes().Any(a => IsJsonAttribute(a, name));

    private static bool IsJsonAttribute(AttributeData attribute, string name) =>
        attribute.AttributeClass is { } c && c.Name == name && c.ContainingNamespace.ToDisplayString() == "System.Text.Json.Serialization";

    private static bool IsJsonPayload(INamedTypeSymbol type) =>
        type is { Name: "JsonPayload", ContainingNamespace: { Name: "CacheGen", ContainingNamespace.IsGlobalNamespace: true } };

    private static bool IsFrameworkType(INamedTypeSymbol type)
    {
        INamespaceSymbol? outermost = type.ContainingNamespace;
        while (outermost is { ContainingNamespace.IsGlobalNamespace: false })
            outermost = outermost.ContainingNamespace;
        return outermost?.Name is "System" or "Microsoft";
    }

    /// <summary>FNV-1a, 64 bits, over the UTF-16 code units: small, stable across runs and platforms (string.GetHashCode is not).</summary>
    private static ulong Fnv1a64(string text)
    {
        ulong hash = 14695981039346656037;
        foreach (char c in text)
        {
            hash ^= c;
            hash *= 1099511628211;
        }
        return hash;
    }
}
