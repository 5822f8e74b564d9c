{{/* The release's base name, at most 63 characters. */}}
{{- define "certdesk.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "certdesk.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Selector labels of one component (api, worker, migrate). */}}
{{- define "certdesk.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "certdesk.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/* The Secret the pods read: the chart's or the user's. */}}
{{- define "certdesk.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else -}}
{{- include "certdesk.fullname" . -}}
{{- end -}}
{{- end -}}

{{/* Fails rendering when a required value is missing. */}}
{{- define "certdesk.validate" -}}
{{- if not .Values.secrets.existingSecret -}}
{{- $url := required "secrets.databaseURL (DATABASE_URL) is required, or secrets.existingSecret: certdesk's image holds no PostgreSQL" .Values.secrets.databaseURL -}}
{{- if not (regexMatch "^postgres(ql)?://" $url) -}}
{{- fail "secrets.databaseURL must be a postgres:// or postgresql:// URL" -}}
{{- end -}}
{{- end -}}
{{- if eq .Values.evidence.backend "s3" -}}
{{- $_ := required "evidence.s3.endpoint (CERTDESK_S3_ENDPOINT) is required with evidence.backend=s3" .Values.evidence.s3.endpoint -}}
{{- $_ := required "evidence.s3.bucket (CERTDESK_S3_BUCKET) is required with evidence.backend=s3" .Values.evidence.s3.bucket -}}
{{- if not .Values.secrets.existingSecret -}}
{{- $_ := required "secrets.s3AccessKey (CERTDESK_S3_ACCESS_KEY) is required with evidence.backend=s3" .Values.secrets.s3AccessKey -}}
{{- $_ := required "secrets.s3SecretKey (CERTDESK_S3_SECRET_KEY) is required with evidence.backend=s3" .Values.secrets.s3SecretKey -}}
{{- end -}}
{{- else if ne .Values.evidence.backend "folder" -}}
{{- fail "evidence.backend must be s3 or folder" -}}
{{- end -}}
{{- end -}}

{{/* The pod-level parts the API, the worker and the migration Job share. */}}
{{- define "certdesk.podCommon" -}}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}

{{/* The environment of the API and the worker. */}}
{{- define "certdesk.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "certdesk.fullname" . }}
  - secretRef:
      name: {{ include "certdesk.secretName" . }}
{{- end -}}

{{/* Volumes of the API and the worker: /tmp, and the evidence folder. */}}
{{- define "certdesk.volumes" -}}
volumes:
  - name: tmp
    emptyDir: {}
{{- if eq .Values.evidence.backend "folder" }}
  - name: evidence
    persistentVolumeClaim:
      claimName: {{ .Values.evidence.folder.existingClaim | default (printf "%s-evidence" (include "certdesk.fullname" .)) }}
{{- end }}
{{- end -}}

{{- define "certdesk.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- if eq .Values.evidence.backend "folder" }}
  - name: evidence
    mountPath: /var/lib/certdesk/blobs
{{- end }}
{{- end -}}
