using System.Collections.Generic;
using System.Linq;
using System.Threading;
using CacheGen.Generator.Diagnostics;
using CacheGen.Generator.Model;
using CacheGen.Infrastructure;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheGen.Generator.Parsing;

// Key and tag templates: placeholders resolved against parameters and their members, and how each value is written into a key.
internal sealed partial class Parser
{
    /// <summary>The <c>Tags</c> of an attribute: each template resolved against this method's parameters.</summary>
    private List<(TagModel Tag, string Template, SyntaxNode? Location)> ParseTags(AttributeData attribute, SyntaxNode? attributeSyntax)
    {
        var tags = new List<(TagModel, string, SyntaxNode?)>();
        if (NamedArgumentConstant(attribute, "Tags") is not { Kind: TypedConstantKind.Array, IsNull: false } array)
            return tags;
        SyntaxNode? argument = NamedArgumentSyntax(attributeSyntax, "Tags");
        int index = 0;
        foreach (TypedConstant value in array.Values)
        {
            SyntaxNode? location = ElementSyntax(argument, index++) ?? argument ?? attributeSyntax;
            string? template = value.Value as string;
            if (string.IsNullOrEmpty(template))
            {
                Report(DiagnosticDescriptors.MalformedKeyTemplate, location, template ?? "null", MethodName, "a tag template must not be empty");
                continue;
            }
            if (TemplateParts(template!, "Tag", location, out string signature) is { } parts)
                tags.Add((new TagModel(MergeLiterals(parts), signature, TakeEach()), template!, location));
        }
        return tags;
    }

    private bool CheckRegion(string? region, SyntaxNode? location)
    {
        if (!KeyFormat.IsValidRegion(region))
        {
            Report(DiagnosticDescriptors.InvalidRegion, location, region ?? "null");
            return false;
        }
        return true;
    }

    /// <summary>
    /// The default key: the region as a Redis hash tag, the method's full signature, then '|' and each generic type
    /// argument and each argument (CancellationTokens excluded). The prefix holds no '|' and values are escaped, so
    /// different calls never share a key.
    /// </summary>
    private EquatableArray<KeyPart> DefaultKey(string region, SyntaxNode? location)
    {
        var parts = new List<KeyPart> { new(KeyPartKind.Literal, KeyFormat.RegionPrefix(region) + _method.ToDisplayString(SignatureFormat)) };
        var typeParameters = new List<ITypeParameterSymbol>();
        for (INamedTypeSymbol? type = _method.ContainingType; type is not null; type = type.ContainingType)
            typeParameters.InsertRange(0, type.TypeParameters);
        typeParameters.AddRange(_method.TypeParameters);
        foreach (ITypeParameterSymbol typeParameter in typeParameters)
        {
            parts.Add(new KeyPart(KeyPartKind.Separator, ""));
            parts.Add(new KeyPart(KeyPartKind.Type, $"typeof({typeParameter.Name})"));
        }
        for (int i = 0; i < _method.Parameters.Length; i++)
        {
            IParameterSymbol parameter = _method.Parameters[i];
            if (IsCancellationToken(parameter.Type) || parameter.RefKind != RefKind.None)
                continue;
            parts.Add(new KeyPart(KeyPartKind.Separator, ""));
            _usedParameters.Add(parameter);
            KeyPart? value = ValuePart(Escape(parameter.Name), parameter.Type);
            if (value is null)
                Report(DiagnosticDescriptors.NoStableTextForm, ParameterSyntax(i) ?? location, $"Parameter '{parameter.Name}'", parameter.Type.ToDisplayString(MessageFormat), MethodName);
            else
                parts.Add(value);
        }
        return parts.ToEquatableArray();
    }

    private EquatableArray<KeyPart> TemplateKey(string region, string template, SyntaxNode? location, out string? signature)
    {
        signature = null;
        if (TemplateParts(template, "Key", location, out string text) is not { } parts)
            return EquatableArray<KeyPart>.Empty;
        signature = text;
        parts.Insert(0, new KeyPart(KeyPartKind.Literal, KeyFormat.RegionPrefix(region)));
        return MergeLiterals(parts);
    }

    /// <summary>
    /// A key or tag template's parts, or null (reported) when it is malformed. <paramref name="signature"/> is its literal
    /// text with each placeholder written as its value's type (nullable or not): two templates with the same signature
    /// write the same text for the same values, whatever their parameters are called.
    /// </summary>
    private List<KeyPart>? TemplateParts(string template, string kind, SyntaxNode? location, out string signature)
    {
        signature = "";
        List<KeyTemplate.Segment>? segments = KeyTemplate.Parse(template, out string? error);
        if (segments is null)
        {
            Report(DiagnosticDescriptors.MalformedKeyTemplate, location, template, MethodName, error!);
            return null;
        }
        var parts = new List<KeyPart>();
        var text = new System.Text.StringBuilder();
        bool resolved = true;
        foreach (KeyTemplate.Segment segment in segments)
        {
            if (!segment.IsPlaceholder)
            {
                parts.Add(new KeyPart(KeyPartKind.Literal, segment.Text));
                text.Append(segment.Text.Replace("\u0001", "\u0001\u0001"));
                continue;
            }
            if (ResolvePlaceholder(segment.Text, kind, location, out ITypeSymbol? type) is { } part)
            {
                parts.Add(part);
                text.Append('\u0001').Append(SignatureOf(UnderlyingIfNullable(type!))).Append('\u0001');
            }
            else
                resolved = false;
        }
        signature = text.ToString();
        // A placeholder that did not resolve is reported; the rest of the template must not be matched as if whole.
        return resolved ? parts : null;
    }

    // A type parameter is named with what declares it: T of one generic type is not T of another.
    private static string SignatureOf(ITypeSymbol type) =>
        type is ITypeParameterSymbol parameter
            ? parameter.Name + "@" + parameter.ContainingSymbol.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat)
            : type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat);

    private KeyPart? ResolvePlaceholder(string path, string kind, SyntaxNode? location, out ITypeSymbol? valueType)
    {
        valueType = null;
        string[] names = path.Split('.');
        if (TryResolveResultPlaceholder(path, names, location, out KeyPart? resultPart, out valueType))
            return resultPart;
        IParameterSymbol? parameter = _method.Parameters.FirstOrDefault(p => p.Name == names[0]);
        if (parameter is null)
        {
            string known = _method.Parameters.Length == 0 ? "" : " (parameters: " + string.Join(", ", _method.Parameters.Select(p => p.Name)) + ")";
            Report(DiagnosticDescriptors.UnknownKeyPlaceholder, location, kind, path, MethodName, $"a parameter of '{MethodName}'{known}");
            return null;
        }
        if (parameter.RefKind != RefKind.None || IsCancellationToken(parameter.Type))
        {
            Report(DiagnosticDescriptors.NoStableTextForm, location, $"{kind} placeholder '{{{path}}}'", parameter.Type.ToDisplayString(MessageFormat), MethodName);
            return null;
        }

        if (!_usedParameters.Contains(parameter, SymbolEqualityComparer.Default))
            _usedParameters.Add(parameter);
        string expression = Escape(parameter.Name);
        ITypeSymbol type = parameter.Type;
        if (EachElement(parameter, names, location) is { } element)
        {
            expression = EachVariable;
            type = element;
        }
        if (!TryReadMembers(names, path, kind, "", location, ref expression, ref type))
            return null;

        KeyPart? part = ValuePart(expression, type);
        if (part is null)
            Report(DiagnosticDescriptors.NoStableTextForm, location, $"{kind} placeholder '{{{path}}}'", type.ToDisplayString(MessageFormat), MethodName);
        valueType = type;
        return part;
    }

    /// <summary>
    /// Follows the members after a placeholder's root (<c>{root.A.B}</c>): each must be a readable property or field,
    /// read with <c>?.</c> past a value that may be null (which makes the result nullable). False when the path does not
    /// resolve: reported, or a type the compiler could not resolve (the user's C# error, already reported).
    /// </summary>
    private bool TryReadMembers(string[] names, string path, string kind, string rootNote, SyntaxNode? location, ref string expression, ref ITypeSymbol type)
    {
        foreach (string name in names.Skip(1))
        {
            ITypeSymbol lookupType = UnderlyingIfNullable(type);
            bool mayBeNull = type.IsReferenceType || !SymbolEqualityComparer.Default.Equals(lookupType, type) || type is ITypeParameterSymbol { IsValueType: false };
            ISymbol? member = FindReadableMember(lookupType, name);
            if (member is null)
            {
                Report(DiagnosticDescriptors.UnknownKeyPlaceholder, location, kind, path, MethodName,
                    $"a readable property or field '{name}' of '{lookupType.ToDisplayString(MessageFormat)}'{rootNote}");
                return false;
            }
            ITypeSymbol memberType = member is IPropertySymbol property ? property.Type : ((IFieldSymbol)member).Type;
            if (IsOrContainsErrorType(memberType))
            {
                _metErrorType = true;
                return false;
            }
            expression += (mayBeNull ? "?." : ".") + Escape(member.Name);
            type = mayBeNull && memberType.IsValueType && !IsNullableValueType(memberType)
                ? _compilation.GetSpecialType(SpecialType.System_Nullable_T).Construct(memberType)
                : memberType;
        }
        return true;
    }

    private ISymbol? FindReadableMember(ITypeSymbol type, string name)
    {
        IEnumerable<ITypeSymbol> types = type is ITypeParameterSymbol typeParameter
            ? typeParameter.ConstraintTypes
            : new[] { type }.Concat(type.AllInterfaces);
        foreach (ITypeSymbol candidateType in types)
        {
            for (ITypeSymbol? current = candidateType; current is not null; current = current.BaseType)
            {
                foreach (ISymbol member in current.GetMembers(name))
                {
                    bool readable = member switch
                    {
                        IPropertySymbol p => !p.IsIndexer && !p.IsStatic && p.GetMethod is not null && _compilation.IsSymbolAccessibleWithin(p.GetMethod, _method.ContainingType),
                        IFieldSymbol f => !f.IsStatic && _compilation.IsSymbolAccessibleWithin(f, _method.ContainingType),
                        _ => false,
                    };
                    if (readable)
                        return member;
                }
            }
        }
        return null;
    }

    // The longest default text of an integer type (sign included), which sizes the key's stack buffer.
    private static int? IntegerWidth(SpecialType type) => type switch
    {
        SpecialType.System_Byte => 3,
        SpecialType.System_SByte => 4,
        SpecialType.System_Int16 => 6,
        SpecialType.System_UInt16 => 5,
        SpecialType.System_Int32 => 11,
        SpecialType.System_UInt32 => 10,
        SpecialType.System_Int64 => 20,
        SpecialType.System_UInt64 => 20,
        _ => null,
    };

    /// <summary>How a value of <paramref name="type"/> is written into a key, or null when it has no stable text form.</summary>
    private KeyPart? ValuePart(string expression, ITypeSymbol type)
    {
        ITypeSymbol underlying = UnderlyingIfNullable(type);
        switch (underlying.SpecialType)
        {
            case SpecialType.System_String:
                return new KeyPart(KeyPartKind.String, expression);
            case SpecialType.System_Boolean:
                return new KeyPart(KeyPartKind.Boolean, expression, Width: 5);
            case SpecialType.System_DateTime:
                return new KeyPart(KeyPartKind.SpanFormattable, expression, "O");
            case SpecialType.System_Object:
                return null;
        }
        // Compared by name parts rather than a display string: this runs for every key value of every method.
        string? format = underlying is INamedTypeSymbol { ContainingNamespace: { Name: "System", ContainingNamespace.IsGlobalNamespace: true }, Arity: 0 } system
            ? system.Name switch
            {
                "DateTimeOffset" or "DateOnly" or "TimeOnly" => "O",
                "TimeSpan" => "c",
                _ => null,
            }
            : null;
        if (Implements(underlying, _known.SpanFormattable))
            return new KeyPart(KeyPartKind.SpanFormattable, expression, format, IntegerWidth(underlying.SpecialType));
        if (Implements(underlying, _known.Formattable))
            return new KeyPart(KeyPartKind.Formattable, expression, format);
        if (underlying is ITypeParameterSymbol typeParameter)
        {
            // Only what every type argument is guaranteed to have counts: the constraints.
            foreach (ITypeSymbol constraint in typeParameter.ConstraintTypes)
            {
                if (ValuePart(expression, constraint) is { Kind: not KeyPartKind.Object } part)
                    return part;
            }
            return null;
        }
        return OverridesToString(underlying) ? new KeyPart(KeyPartKind.Object, expression) : null;
    }

    private static bool Implements(ITypeSymbol type, INamedTypeSymbol? @interface) =>
        @interface is not null
        && (SymbolEqualityComparer.Default.Equals(type, @interface) || type.AllInterfaces.Any(i => SymbolEqualityComparer.Default.Equals(i, @interface)));

    private static bool OverridesToString(ITypeSymbol type)
    {
        if (type.TypeKind is not (TypeKind.Class or TypeKind.Struct or TypeKind.Enum))
            return false;
        for (ITypeSymbol? current = type; current is not null && current.SpecialType is not (SpecialType.System_Object or SpecialType.System_ValueType); current = current.BaseType)
        {
            if (current.GetMembers("ToString").OfType<IMethodSymbol>().Any(m => m.IsOverride && m.Parameters.Length == 0 && !m.IsStatic))
                return true;
        }
        return false;
    }

    private static ITypeSymbol UnderlyingIfNullable(ITypeSymbol type) =>
        IsNullableValueType(type) ? ((INamedTypeSymbol)type).TypeArguments[0] : type;

    private static bool IsNullableValueType(ITypeSymbol type) =>
        type is INamedTypeSymbol { IsGenericType: true } named && named.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T;

    /// <summary>Joins neighbouring literal parts so the emitted key is one literal where it can be.</summary>
    private static EquatableArray<KeyPart> MergeLiterals(List<KeyPart> parts)
    {
        var merged = new List<KeyPart>();
        foreach (KeyPart part in parts)
        {
            if (part.Kind == KeyPartKind.Literal && merged.Count > 0 && merged[merged.Count - 1].Kind == KeyPartKind.Literal)
                merged[merged.Count - 1] = new KeyPart(KeyPartKind.Literal, merged[merged.Count - 1].Text + part.Text);
            else
                merged.Add(part);
        }
        return merged.ToEquatableArray();
    }
}
