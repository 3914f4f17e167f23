{{- define "clmb-stack.name" -}}
{{- default .Release.Name .Values.nameOverride }}
{{- end }}
